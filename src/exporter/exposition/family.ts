import type { MetricType, Registry } from 'prom-client';
import { Gauge, validateMetricName } from './prom-client.js';

/*
 * The one way to define a metric family that is rendered at scrape time (node_exporter's MustNewConstMetric in
 * Update): a family is plain data (name, help, type, label names), and its samples are produced when the exposition
 * is written, from whatever the owner holds then (a collector's last successful snapshot, a tailer's counters).
 * Nothing is set, incremented or cleared between scrapes, so a series that is no longer in the source is simply not
 * written: stale series cannot exist.
 *
 * A family is registered with prom-client: a subclass of its Gauge, so prom-client's own constructor validates the
 * metric and label names and calls `registry.registerMetric()` (which refuses a duplicate name). prom-client then
 * serves it through `get()` (registry.metrics(), getMetricsAsJSON); the server's renderers (server/text-format.ts,
 * server/openmetrics.ts) call `writeSampleLines()` instead, which writes the same lines without a label object per
 * sample. The Gauge's own set()/inc() are never used: the family has no state of its own.
 *
 * A family whose producers each add label pairs of their own (a log source's path labels, docs/container-logs.md)
 * declares where they go (`extraLabelsAfter`); each producer checks its pairs once with `extraLabels()` and hands
 * the result to `emit` with every sample, which then costs no check beyond a reference comparison.
 */

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** The end of a sample's name: '' for counters, gauges and summary quantiles, the histogram parts otherwise. */
export type SampleSuffix = '' | '_bucket' | '_sum' | '_count';

export interface FamilyDefinition<L extends string = string> {
  readonly name: string;
  /** Says where the number comes from (`pg_stat_user_tables.seq_scan`). */
  readonly help: string;
  readonly type: FamilyType;
  readonly labelNames: readonly L[];
  /** The base unit (`seconds`, `bytes`), checked against the name; not written (the expositions carry no UNIT). */
  readonly unit?: string;
  /** Histograms only: the bucket upper bounds, ascending, without +Inf (always added by `emitHistogram`). */
  readonly buckets?: readonly number[];
  /**
   * Samples may carry further label pairs (an `ExtraLabels`), written after this many of `labelNames` (at least
   * one); absent: every sample has exactly `labelNames`.
   */
  readonly extraLabelsAfter?: number;
}

/** Label pairs that one producer adds to its samples, checked once by `extraLabels()`. */
export interface ExtraLabels {
  readonly pairs: readonly (readonly [string, string])[];
  /** The pairs as a sample line has them after the value of the label before them: `",namespace="a",pod="b`. */
  readonly text: string;
  /** The families whose samples may carry them. */
  readonly families: ReadonlySet<FamilyDefinition>;
}

/**
 * Receives one sample: its value, its label values in the family's label order (then `le` for a `_bucket`), the
 * suffix of its name, and the producer's extra label pairs if any (see `extraLabelsAfter`). It reads `labelValues`
 * before returning and keeps no reference, so a caller may reuse one array for every sample.
 */
export type Emit = (value: number, labelValues?: readonly string[], suffix?: SampleSuffix, extra?: ExtraLabels) => void;

/** Produces a family's samples at scrape time; emits nothing when there is nothing to show. */
export type Samples = (emit: Emit) => void;

/** Checks the rules prom-client does not know, and the name with prom-client's validator; throws on the first. */
export function defineFamily<const L extends string>(def: FamilyDefinition<L>): FamilyDefinition<L> {
  const problem = familyProblem(def);
  if (problem !== undefined) throw new Error(`metric family ${def.name}: ${problem}`);
  return Object.freeze({ ...def, labelNames: Object.freeze([...def.labelNames]) });
}

function familyProblem(def: FamilyDefinition): string | undefined {
  if (!validateMetricName(def.name)) return 'invalid metric name';
  if (def.help.trim() === '') return 'empty help';
  // Counters end in _total, so the text format and OpenMetrics name the samples alike (see writeSampleLines).
  if (def.type === 'counter' && !def.name.endsWith('_total')) return 'a counter name ends in _total';
  if (def.type !== 'counter' && def.name.endsWith('_total')) return 'only counter names end in _total';
  if (def.unit !== undefined && !def.name.replace(/_total$/, '').endsWith(`_${def.unit}`))
    return `the name does not end in its unit "${def.unit}"`;
  if (new Set(def.labelNames).size !== def.labelNames.length) return 'duplicate label name';
  const after = def.extraLabelsAfter;
  if (after !== undefined && !(Number.isInteger(after) && after >= 1 && after <= def.labelNames.length))
    return 'extraLabelsAfter is a position after one of its label names';
  if (def.type === 'histogram') {
    if (def.labelNames.includes('le')) return '"le" is reserved for histogram buckets';
    const b = def.buckets ?? [];
    if (b.length === 0 || b.some((v, i) => !Number.isFinite(v) || (i > 0 && v <= (b[i - 1] as number))))
      return 'a histogram needs finite, strictly ascending buckets';
  } else if (def.buckets !== undefined) return 'only histograms have buckets';
  return undefined;
}

/**
 * Checks `pairs` once for the samples of `families` (label names by prom-client's rules, none reserved, repeated or
 * clashing with a family's own labels or `le`) and escapes them; throws on the first problem.
 */
export function extraLabels(
  families: readonly FamilyDefinition[],
  pairs: readonly (readonly [string, string])[],
): ExtraLabels {
  const seen = new Set<string>();
  for (const [name] of pairs) {
    // prom-client's label name rule is its metric name rule without ':' (it exports only the latter)
    const problem =
      !validateMetricName(name) || name.includes(':')
        ? 'invalid label name'
        : name.startsWith('__')
          ? 'label names starting with "__" are reserved'
          : seen.has(name)
            ? 'duplicate label name'
            : families.map((f) => extraLabelClash(f, name)).find((p) => p !== undefined);
    if (problem !== undefined) throw new Error(`extra label "${name}": ${problem}`);
    seen.add(name);
  }
  return Object.freeze({
    pairs: Object.freeze(pairs.map(([k, v]) => Object.freeze([k, v] as const))),
    text: pairs.map(([k, v]) => `",${k}="${escapeLabelValue(v)}`).join(''),
    families: new Set(families),
  });
}

function extraLabelClash(def: FamilyDefinition, name: string): string | undefined {
  if (def.extraLabelsAfter === undefined) return `${def.name} takes no extra labels`;
  if (def.labelNames.includes(name) || (def.type === 'histogram' && name === 'le'))
    return `a label of ${def.name} already`;
  return undefined;
}

/** A registry entry that writes its own sample lines; the server's renderers use it instead of `get()`. */
export interface SampleLineWriter {
  /** Hands the sample lines to `write`, several per chunk, each line ending in a newline; `formatValue` spells values. */
  writeSampleLines(write: (chunk: string) => void, formatValue: (v: number) => string): void;
}

export function isSampleLineWriter(metric: unknown): metric is SampleLineWriter {
  return (
    typeof metric === 'object' &&
    metric !== null &&
    typeof (metric as { writeSampleLines?: unknown }).writeSampleLines === 'function'
  );
}

/** Registers `def` in `registry`; `samples` is called at every scrape to produce its samples. */
export function registerFamily(registry: Registry, def: FamilyDefinition, samples: Samples): void {
  new ScrapeFamily(registry, def, samples);
}

/** The `le` label value of a bucket bound, as prom-client spells it. */
export const bucketLabel = (bound: number): string => (bound === Infinity ? '+Inf' : String(bound));

/**
 * A histogram's samples for one label set: `cumulative[i]` observations at or below `def.buckets[i]`, then the
 * +Inf bucket (`count`), `_sum` and `_count`. `labelValues` is the family's label values (without `le`).
 */
export function emitHistogram(
  def: FamilyDefinition,
  emit: Emit,
  labelValues: readonly string[],
  cumulative: readonly number[],
  sum: number,
  count: number,
): void {
  const withLe = [...labelValues, ''];
  const le = labelValues.length;
  (def.buckets ?? []).forEach((bound, i) => {
    withLe[le] = bucketLabel(bound);
    emit(cumulative[i] ?? count, withLe, '_bucket');
  });
  withLe[le] = '+Inf';
  emit(count, withLe, '_bucket');
  emit(sum, labelValues, '_sum');
  emit(count, labelValues, '_count');
}

const NEEDS_ESCAPE = /[\\\n"]/;
/** Label value escaping of both text formats (backslash, newline, double quote), as prom-client does it. */
export const escapeLabelValue = (v: string): string =>
  NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;

/** Lines joined per chunk: each line string then dies young instead of surviving until the end of the scrape. */
const LINES_PER_CHUNK = 512;

class ScrapeFamily extends Gauge<string> implements SampleLineWriter {
  // Assigned by prom-client's constructor from the configuration; `type` is set below (Gauge says 'gauge').
  declare readonly name: string;
  declare readonly help: string;
  readonly type: FamilyType;
  private readonly def: FamilyDefinition;
  private readonly samples: Samples;
  /** What opens label `i` in a sample line, closing the value before it (`{log="`, `",method="`), `le` last. */
  private readonly open: readonly string[];
  /** Index of the label after which a sample's extra labels go (-1: none). */
  private readonly extraAt: number;

  constructor(registry: Registry, def: FamilyDefinition, samples: Samples) {
    super({ name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [registry] });
    this.type = def.type;
    this.def = def;
    this.samples = samples;
    this.open = [...def.labelNames, 'le'].map((l, i) => `${i === 0 ? '{' : '",'}${l}="`);
    this.extraAt = (def.extraLabelsAfter ?? 0) - 1;
  }

  /**
   * Every sample, checked against the label names (a wrong count is a bug in the owner: it fails loudly); extra
   * labels were checked by `extraLabels()`, so a sample only shows they were checked for this family.
   */
  private visit(
    sample: (value: number, labelValues: readonly string[], suffix: SampleSuffix, extra?: ExtraLabels) => void,
  ): void {
    const n = this.def.labelNames.length;
    let checked: ExtraLabels | undefined;
    this.samples((value, labelValues = [], suffix = '', extra) => {
      if (labelValues.length !== (suffix === '_bucket' ? n + 1 : n))
        throw new Error(`${this.def.name}${suffix}: ${labelValues.length} label values for ${n} label names`);
      if (extra !== undefined && extra !== checked) {
        if (!extra.families.has(this.def)) throw new Error(`${this.def.name}: extra labels not checked for it`);
        checked = extra;
      }
      sample(value, labelValues, suffix, extra);
    });
  }

  private labelName(i: number): string {
    return this.def.labelNames[i] ?? 'le';
  }

  override async get(): ReturnType<Gauge<string>['get']> {
    const base = await super.get();
    const values: Array<(typeof base.values)[number] & { metricName?: string }> = [];
    this.visit((value, labelValues, suffix, extra) => {
      const labels: Record<string, string> = {};
      labelValues.forEach((v, i) => {
        labels[this.labelName(i)] = v;
        if (i === this.extraAt && extra !== undefined) for (const [k, x] of extra.pairs) labels[k] = x;
      });
      values.push(suffix === '' ? { value, labels } : { value, labels, metricName: `${this.name}${suffix}` });
    });
    // prom-client's type declarations give `type` as a numeric enum; its runtime and every renderer use the string.
    return { ...base, type: this.type as unknown as MetricType, values };
  }

  writeSampleLines(write: (chunk: string) => void, formatValue: (v: number) => string): void {
    const pending: string[] = [];
    const flush = (): void => {
      if (pending.length === 0) return;
      pending.push(''); // the last line's newline
      write(pending.join('\n'));
      pending.length = 0;
    };
    const open = this.open;
    const at = this.extraAt;
    this.visit((value, labelValues, suffix, extra) => {
      let line = this.name + suffix;
      for (let i = 0; i < labelValues.length; i++) {
        line += (open[i] as string) + escapeLabelValue(labelValues[i] as string);
        if (i === at && extra !== undefined) line += extra.text;
      }
      if (labelValues.length > 0) line += '"}';
      pending.push(`${line} ${formatValue(value)}`);
      if (pending.length === LINES_PER_CHUNK) flush();
    });
    flush();
  }
}
