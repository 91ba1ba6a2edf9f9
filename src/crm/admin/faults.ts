import { z } from 'zod';

const route = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\/[A-Za-z0-9/:_.-]*$/, 'must be a route template such as /api/customers/:id')
  .nullable()
  .default(null);

/** The faults the load generator can switch on; a null route means every /api route. */
export const faultsSchema = z.strictObject({
  latency_ms: z.int().min(0).max(60_000).default(0),
  latency_route: route,
  error_rate: z.number().min(0).max(1).default(0),
  error_route: route,
  cache_bypass: z.boolean().default(false),
  lock_hold_ms: z.int().min(0).max(60_000).default(0),
  slow_query_ms: z.int().min(0).max(30_000).default(0),
  slow_query_route: route,
  /** Switch everything off again after this many seconds, so a crashed load generator leaves no faults behind. */
  duration_s: z.number().positive().max(86_400).nullable().default(null),
});

export type Faults = z.output<typeof faultsSchema>;

export const noFaults: Faults = Object.freeze(faultsSchema.parse({}));

/** In-memory fault switches of one service instance. */
export class FaultState {
  private faults: Faults = noFaults;
  private expiry: NodeJS.Timeout | undefined;

  get current(): Faults {
    return this.faults;
  }

  get active(): boolean {
    const f = this.faults;
    return f.latency_ms > 0 || f.error_rate > 0 || f.cache_bypass || f.lock_hold_ms > 0 || f.slow_query_ms > 0;
  }

  set(faults: Faults): void {
    this.clearTimer();
    this.faults = Object.freeze({ ...faults });
    if (faults.duration_s !== null) {
      this.expiry = setTimeout(() => this.reset(), faults.duration_s * 1000);
      this.expiry.unref();
    }
  }

  reset(): void {
    this.clearTimer();
    this.faults = noFaults;
  }

  private clearTimer(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
  }
}

export function routeMatches(faultRoute: string | null, route: string): boolean {
  return faultRoute === null || faultRoute === route;
}
