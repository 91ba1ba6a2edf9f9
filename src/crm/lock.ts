import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { compareAndDelete } from './lua.js';

export interface LockOptions {
  /** Lease: the lock disappears by itself after this long, so a crashed holder cannot block forever. */
  ttlMs: number;
  /** Bounded wait: give up (contended) after this long. 0 = one attempt. */
  waitMs: number;
  /** Pause between attempts (jittered ±50%). */
  retryMs?: number;
}

export type AcquireResult =
  | { outcome: 'acquired'; token: string; waitedMs: number }
  /** Someone else holds it; `retryAfterMs` is the holder's remaining lease. */
  | { outcome: 'contended'; waitedMs: number; retryAfterMs: number }
  /** Redis did not answer: the lock state is unknown, so the caller must not proceed. */
  | { outcome: 'timeout'; waitedMs: number; error: Error };

/**
 * The single-instance Redis lock: SET key token NX PX ttl to take it, and a compare-and-delete script to
 * release it, so a holder whose lease expired can never delete a lock that someone else took since.
 */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(name: string): string {
    return `${this.prefix}lock:${name}`;
  }

  async acquire(name: string, opts: LockOptions): Promise<AcquireResult> {
    const key = this.key(name);
    const token = randomBytes(16).toString('base64url');
    const started = performance.now();
    const retryMs = opts.retryMs ?? 25;
    for (;;) {
      try {
        if ((await this.redis.set(key, token, 'PX', opts.ttlMs, 'NX')) === 'OK') {
          return { outcome: 'acquired', token, waitedMs: performance.now() - started };
        }
        const waited = performance.now() - started;
        if (waited + retryMs > opts.waitMs) {
          const pttl = await this.redis.pttl(key);
          return {
            outcome: 'contended',
            waitedMs: performance.now() - started,
            retryAfterMs: pttl > 0 ? pttl : retryMs,
          };
        }
      } catch (err) {
        return {
          outcome: 'timeout',
          waitedMs: performance.now() - started,
          error: err instanceof Error ? err : new Error(String(err)),
        };
      }
      await sleep(retryMs * (0.5 + Math.random()));
    }
  }

  /** True when this token still held the lock; false when the lease had expired (or Redis failed). */
  async release(name: string, token: string): Promise<boolean> {
    try {
      return (await compareAndDelete.run(this.redis, [this.key(name)], [token])) === 1;
    } catch {
      return false;
    }
  }
}
