/** Latency histogram with 1% relative precision and constant memory, plus exact count, min, max and mean. */
export class Histogram {
  private static readonly MIN_MS = 0.01;
  private static readonly RATIO = 1.01;
  private static readonly LOG_RATIO = Math.log(Histogram.RATIO);
  private readonly buckets = new Map<number, number>();
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(ms: number): void {
    const v = Math.max(ms, Histogram.MIN_MS);
    const i = Math.ceil(Math.log(v / Histogram.MIN_MS) / Histogram.LOG_RATIO);
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + 1);
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** The value at quantile q (0..1): the upper bound of its bucket, clamped to the observed max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const i of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(i)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, Histogram.MIN_MS * Histogram.RATIO ** i));
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  merge(other: Histogram): void {
    for (const [i, n] of other.buckets) this.buckets.set(i, (this.buckets.get(i) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  summary(): LatencySummary {
    const r = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      count: this.count,
      mean: r(this.mean),
      p50: r(this.quantile(0.5)),
      p95: r(this.quantile(0.95)),
      p99: r(this.quantile(0.99)),
      max: r(this.max),
    };
  }
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Counts by HTTP status, exactly. */
export class StatusCounts {
  readonly byStatus: Record<number, number> = {};
  networkErrors = 0;

  add(status: number | undefined): void {
    if (status === undefined) this.networkErrors++;
    else this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
  }

  get responses(): number {
    return Object.values(this.byStatus).reduce((a, b) => a + b, 0);
  }

  count(predicate: (status: number) => boolean): number {
    return Object.entries(this.byStatus).reduce((n, [s, c]) => (predicate(Number(s)) ? n + c : n), 0);
  }
}
