import { formatPath, readYamlFile } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { parsePromDuration } from './prom-duration.js';
import { ROLLUP_FROM } from './rules/slo.js';
import { thresholdsSchema, type Thresholds } from './thresholds-schema.js';

export type { Thresholds } from './thresholds-schema.js';

/** `value` is one of `buckets`, or a problem naming the nearest boundaries below and above. */
function bucketProblem(key: string, value: number, buckets: readonly number[]): string | undefined {
  if (buckets.includes(value)) return undefined;
  const below = buckets.filter((b) => b < value).at(-1);
  const above = buckets.find((b) => b > value);
  const nearest = [below, above].filter((b) => b !== undefined).join(' and ');
  return `${key}: ${value} is not a bucket boundary of the exporter's histogram (buckets: ${buckets.join(', ')}); the nearest are ${nearest}`;
}

const ms = (d: string): number => parsePromDuration(d) ?? 0;

/** Checks across keys that the schema cannot express; every problem starts with its key path. */
function crossChecks(t: Thresholds): string[] {
  const problems: string[] = [];
  const add = (p: string | undefined): void => {
    if (p) problems.push(p);
  };
  if (t.slo.latency.enabled) add(bucketProblem('slo.latency.threshold', t.slo.latency.threshold, t.buckets));
  if (t.apdex.enabled) {
    add(bucketProblem('apdex.t', t.apdex.t, t.buckets));
    // 4T computed in binary floating point: 0.1 * 4 is 0.4 exactly as the bucket list writes it.
    add(bucketProblem('apdex.t (4T, the tolerating limit)', Number((t.apdex.t * 4).toPrecision(12)), t.buckets));
  }
  const { rate_window, rollup_window, slow_interval } = t.evaluation;
  if (ms(rollup_window) < ms(rate_window))
    problems.push(`evaluation.rollup_window: ${rollup_window} is shorter than evaluation.rate_window (${rate_window})`);
  // Series recorded less often than Prometheus's 5-minute look-back would blink out between evaluations.
  if (ms(slow_interval) > 4 * 60_000)
    problems.push(
      `evaluation.slow_interval: ${slow_interval} is over 4m: recorded series would go stale between evaluations`,
    );
  if (ms(slow_interval) > ms(rollup_window))
    problems.push(
      `evaluation.slow_interval: ${slow_interval} is longer than evaluation.rollup_window (${rollup_window})`,
    );
  for (const tier of ['page', 'ticket'] as const) {
    t.slo[tier].windows.forEach((w, i) => {
      const key = `slo.${tier}.windows[${i}]`;
      if (ms(w.short) >= ms(w.long)) problems.push(`${key}.short: ${w.short} must be shorter than long (${w.long})`);
      for (const side of ['short', 'long'] as const) {
        const d = w[side];
        if (ms(d) < ms(rate_window))
          problems.push(`${key}.${side}: ${d} is shorter than evaluation.rate_window (${rate_window})`);
        if (ms(d) >= ROLLUP_FROM * ms(rollup_window) && ms(d) % ms(rollup_window) !== 0) {
          problems.push(
            `${key}.${side}: ${d} is summed from roll-ups of evaluation.rollup_window (${rollup_window}) but is not a multiple of it`,
          );
        }
      }
      if (ms(w.long) > ms(t.slo.period))
        problems.push(`${key}.long: ${w.long} is longer than slo.period (${t.slo.period})`);
      if (w.factor * (1 - t.slo.availability.objective) > 1 && t.slo.availability.enabled) {
        problems.push(
          `${key}.factor: ${w.factor} x the availability error budget exceeds 100 %: the alert could never fire`,
        );
      }
    });
  }
  if (ms(t.slo.period) % ms(rollup_window) !== 0)
    problems.push(`slo.period: ${t.slo.period} is not a multiple of evaluation.rollup_window (${rollup_window})`);
  return problems;
}

/** Validates a parsed document; one ConfigError lists every problem with its key path. */
export function parseThresholds(document: unknown): Thresholds {
  const raw = document === null || document === undefined ? {} : document;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(['(root): must be a mapping of keys to values']);
  const result = thresholdsSchema.safeParse(raw);
  if (!result.success)
    throw new ConfigError(result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`));
  const problems = crossChecks(result.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

export function loadThresholdsFile(file: string): Thresholds {
  return parseThresholds(readYamlFile(file));
}
