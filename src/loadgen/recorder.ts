import { Histogram, StatusCounts, type LatencySummary } from './stats.js';

export interface OperationSummary {
  requests: number;
  byStatus: Record<number, number>;
  networkErrors: number;
  latency: LatencySummary;
}

interface Bucket {
  latency: Histogram;
  statuses: StatusCounts;
}

const bucket = (): Bucket => ({ latency: new Histogram(), statuses: new StatusCounts() });

/**
 * Every request the run sends, exactly once: by status over the whole run (setup and admin calls included,
 * so the totals can be compared with the service's access log), by operation, and for the current progress window.
 */
export class Recorder {
  readonly all = new StatusCounts();
  readonly load = bucket();
  private readonly ops = new Map<string, Bucket>();
  private window = bucket();

  /** `status` undefined = no HTTP response (connection error or client timeout). `load`: scenario traffic rather than setup/admin. */
  record(op: string, status: number | undefined, ms: number, load: boolean): void {
    this.all.add(status);
    let b = this.ops.get(op);
    if (!b) this.ops.set(op, (b = bucket()));
    b.statuses.add(status);
    b.latency.record(ms);
    if (load) {
      this.load.statuses.add(status);
      this.load.latency.record(ms);
      this.window.statuses.add(status);
      this.window.latency.record(ms);
    }
  }

  get sent(): number {
    return this.all.responses + this.all.networkErrors;
  }

  /** Returns the window since the previous call and starts a new one. */
  takeWindow(): Bucket {
    const w = this.window;
    this.window = bucket();
    return w;
  }

  byOperation(): Record<string, OperationSummary> {
    const out: Record<string, OperationSummary> = {};
    for (const [op, b] of [...this.ops].sort(([a], [c]) => a.localeCompare(c))) {
      out[op] = {
        requests: b.statuses.responses + b.statuses.networkErrors,
        byStatus: { ...b.statuses.byStatus },
        networkErrors: b.statuses.networkErrors,
        latency: b.latency.summary(),
      };
    }
    return out;
  }
}
