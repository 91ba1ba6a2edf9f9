/**
 * The access-log families in a registry: one `LogMetrics` per registry (see `logMetricsFor`) registers every family
 * of families.ts; each log source adds a `LogSourceSeries` (series.ts), its aggregator, with the `log` label value.
 * Prometheus reads the totals at scrape time through prom-client's public custom-metric interface: an object with
 * `name`, `help`, `type` and `get()` returning the family, registered with `registry.registerMetric()`.
 */

import type { Metric, Registry } from 'prom-client';
import { escapeLabelValue, type SampleLineWriter } from '../exposition/family.js';
import { LOG_METRIC_DEFINITIONS, type LogMetricDefinition, type MetricKind } from './families.js';
import { LogSourceSeries, type LogSourceSeriesOptions, type SampleVisitor } from './series.js';

interface Sample {
  value: number;
  labels: Readonly<Record<string, string>>;
  metricName?: string;
}

/** Label name of position `i`: the family's, then `le` (histogram buckets). */
const labelName = (def: LogMetricDefinition, i: number): string => def.labelNames[i] ?? 'le';

/** prom-client's sample objects (for `get()`, i.e. getMetricsAsJSON and registry.metrics()). */
function sampleObjects(
  def: LogMetricDefinition,
  out: Sample[],
  extra: readonly (readonly [string, string])[] = [],
): SampleVisitor {
  return (value, suffix, ...labelValues) => {
    const labels: Record<string, string> = {};
    labelValues.forEach((v, i) => {
      if (v !== undefined) labels[labelName(def, i)] = v;
      if (i === 0) for (const [k, x] of extra) labels[k] = x;
    });
    out.push(suffix === '' ? { value, labels } : { value, labels, metricName: `${def.name}${suffix}` });
  };
}

/** Lines joined per chunk: each line string then dies young instead of surviving (and being copied) until the end. */
const LINES_PER_CHUNK = 512;

/**
 * Sample lines, the same in Prometheus text and OpenMetrics (every counter here already ends in `_total`), handed to
 * `write` in chunks of up to LINES_PER_CHUNK lines, each line ending in a newline: one string per line straight
 * from the aggregates, no label objects. At the caps a route-cardinality attack reaches (~36,000 series),
 * prom-client's generic formatting held a dozen objects per sample until the end of the scrape; this holds a chunk.
 */
function textLines(
  def: LogMetricDefinition,
  write: (chunk: string) => void,
  formatValue: (v: number) => string,
): { emit: SampleVisitor; flush(): void; labels(text: string): void } {
  let extra = '';
  const open = [0, 1, 2, 3].map((i) => `${i === 0 ? '{' : '",'}${labelName(def, i)}="`);
  const pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    pending.push(''); // the last line's newline, without another copy of the chunk
    write(pending.join('\n'));
    pending.length = 0;
  };
  const emit: SampleVisitor = (value, suffix, l0, l1, l2, l3) => {
    let line = def.name + suffix + (open[0] as string) + escapeLabelValue(l0) + extra;
    if (l1 !== undefined) line += (open[1] as string) + escapeLabelValue(l1);
    if (l2 !== undefined) line += (open[2] as string) + escapeLabelValue(l2);
    if (l3 !== undefined) line += (open[3] as string) + escapeLabelValue(l3);
    pending.push(`${line}"} ${formatValue(value)}`);
    if (pending.length === LINES_PER_CHUNK) flush();
  };
  return {
    emit,
    flush,
    labels: (text) => {
      extra = text;
    },
  };
}

/**
 * One family as a prom-client custom metric: the registry calls `get()` when it renders (also for OpenMetrics,
 * where it renames counters by assigning `name`, so `name` is a plain writable property read on each call). The
 * server's renderers call `writeSampleLines()` instead, which skips the per-sample objects.
 */
class ScrapeTimeFamily implements SampleLineWriter {
  name: string;
  readonly help: string;
  readonly type: MetricKind;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';

  constructor(
    private readonly def: LogMetricDefinition,
    private readonly sources: readonly LogSourceSeries[],
  ) {
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.labelNames = def.labelNames;
  }

  async get(): Promise<{ name: string; help: string; type: MetricKind; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.sources) s.visit(this.def.name, sampleObjects(this.def, values, s.labels));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  writeSampleLines(write: (chunk: string) => void, formatValue: (v: number) => string): void {
    const lines = textLines(this.def, write, formatValue);
    for (const s of this.sources) {
      lines.labels(s.labelText);
      s.visit(this.def.name, lines.emit);
    }
    lines.flush();
  }

  /** The values mirror the pipelines' cumulative totals; there is nothing to reset here. */
  reset(): void {}
}

/** All access-log families of one registry. */
export class LogMetrics {
  private readonly sources: LogSourceSeries[] = [];

  constructor(registry: Registry) {
    for (const def of LOG_METRIC_DEFINITIONS) {
      // A custom metric object (public interface: name/help/type + get()); prom-client's types only list its own classes.
      registry.registerMetric(new ScrapeTimeFamily(def, this.sources) as unknown as Metric);
    }
  }

  /** Adds a log source; its series appear in the exposition from now on. */
  addSource(opts: LogSourceSeriesOptions): LogSourceSeries {
    const s = new LogSourceSeries(opts);
    if (this.sources.some((o) => o.name === s.name && o.labelText === s.labelText))
      throw new Error(`log source "${opts.name}" is already registered`);
    this.sources.push(s);
    return s;
  }

  /** Removes a log source's series (e.g. a test that rebuilds a pipeline on the same registry). */
  removeSource(source: LogSourceSeries): void {
    const i = this.sources.indexOf(source);
    if (i >= 0) this.sources.splice(i, 1);
  }
}

const perRegistry = new WeakMap<Registry, LogMetrics>();

/** The access-log families of `registry`, registering them on first use (every log source shares them). */
export function logMetricsFor(registry: Registry): LogMetrics {
  let m = perRegistry.get(registry);
  if (m === undefined) {
    m = new LogMetrics(registry);
    perRegistry.set(registry, m);
  }
  return m;
}
