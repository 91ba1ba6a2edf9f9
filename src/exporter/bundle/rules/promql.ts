import type { Thresholds } from '../thresholds-schema.js';

/*
 * The few PromQL building blocks every generated rule shares: label selectors from thresholds.yaml, bucket
 * matchers that work on Prometheus 2.x and 3.x, and number formatting.
 *
 * Every aggregation and every vector match of a generated rule keeps `cluster` (`sum by (cluster, job, log)`,
 * `on (cluster, job, instance)`): the label a fleet's Prometheus servers add as `external_labels` when they
 * remote-write to a central Prometheus, Mimir or Thanos. Without it the rules there would sum two clusters into one
 * series, and a join of two clusters' series with the same job and instance would fail as many-to-many. Where no
 * series has the label, `by (cluster, ...)` is `by (...)`: one Prometheus sees the same rules' results as before.
 * test/bundle/fleet-labels.test.ts checks every grouping.
 */
export const FLEET_LABEL = 'cluster';

/** A PromQL string literal (double-quoted; backslashes and quotes escaped). */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Regex-escapes a literal for use inside a PromQL regex matcher. */
function regexLiteral(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Matcher for one histogram bucket. Prometheus 3 normalises classic-histogram `le` values to floats (`le="1.0"`),
 * 2.x keeps what the exporter wrote (`le="1"`): an integer boundary is matched in both spellings.
 */
export function leMatcher(boundary: number): string {
  const text = String(boundary);
  const alternatives = Number.isInteger(boundary) ? [text, `${text}.0`] : [text];
  return `le=~${quote(alternatives.map(regexLiteral).join('|'))}`;
}

/** A number as PromQL and YAML print it: no exponent for the ratios and thresholds we use. */
export function num(value: number): string {
  return Number(value.toPrecision(12)).toString();
}

export interface Selectors {
  /** Scrape job of the exporter: `job=~"..."`. */
  job: string;
  /** The exporter's log sources: job and `log`. */
  log: string;
  /** The service's requests: job, log, and the excluded routes. */
  http: string;
}

export function selectors(t: Thresholds): Selectors {
  const job = `job=~${quote(t.selectors.job)}`;
  const log = `${job}, log=~${quote(t.selectors.log)}`;
  const http = t.selectors.exclude_routes ? `${log}, route!~${quote(t.selectors.exclude_routes)}` : log;
  return { job, log, http };
}

/** Record-name suffix of a window: rate5m, ratio_rate1h ... */
export const rateName = (window: string): string => `rate${window}`;
