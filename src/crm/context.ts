import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export type CacheOutcome = 'hit' | 'miss' | 'bypass';
export type LockOutcome = 'acquired' | 'contended' | 'timeout';

/** What one request did, filled in as it runs and written to the access log when it ends. */
export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  /** Express route template once a route matched; `unmatched` otherwise. */
  route: string;
  dbMs: number;
  cacheMs: number | undefined;
  cache: CacheOutcome | undefined;
  lock: LockOutcome | undefined;
  lockWaitMs: number | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Uses the caller's X-Request-Id when it is short and printable, else a fresh UUID. */
export function newContext(incomingRequestId?: string): RequestContext {
  return {
    requestId: incomingRequestId !== undefined && REQUEST_ID.test(incomingRequestId) ? incomingRequestId : randomUUID(),
    startedAt: performance.now(),
    route: 'unmatched',
    dbMs: 0,
    cacheMs: undefined,
    cache: undefined,
    lock: undefined,
    lockWaitMs: undefined,
  };
}

/** Runs `fn`, adding its wall time to the request's Redis cache time. */
export async function timeCache<T>(ctx: RequestContext | undefined, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    if (ctx) ctx.cacheMs = (ctx.cacheMs ?? 0) + (performance.now() - t0);
  }
}

/** Runs `fn`, adding its wall time to the request's PostgreSQL time. */
export async function timeDb<T>(ctx: RequestContext | undefined, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    if (ctx) ctx.dbMs += performance.now() - t0;
  }
}
