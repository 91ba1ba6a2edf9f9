import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { timeCache, type RequestContext } from './context.js';
import type { FaultState } from './admin/faults.js';
import { compareAndDelete, LuaScript } from './lua.js';
import type { Logger } from './log.js';

/** Stores the value only while the reader still holds the lease an invalidation would have deleted. */
const fillIfLeased = new LuaScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0`);

export interface CacheOptions {
  redis: Redis;
  prefix: string;
  ttlSeconds: number;
  faults: FaultState;
  log: Logger;
  /** How long a reader's fill lease lives; bounds how long a crashed reader blocks fills of one key. */
  leaseMs?: number;
  retryIntervalMs?: number;
}

/**
 * Cache-aside for one kind of record, with leases against the classic stale-fill race: a reader takes a
 * lease before reading PostgreSQL and fills only if the lease survived; a write deletes the value and the
 * lease. When Redis is down (or bypassed by a fault) reads go to PostgreSQL; failed invalidations are
 * retried and the affected keys bypass the cache until they succeed.
 */
export class ReadThroughCache<T> {
  private readonly pending = new Set<string>();
  private readonly retryTimer: NodeJS.Timeout;

  constructor(
    private readonly kind: string,
    private readonly opts: CacheOptions,
  ) {
    this.retryTimer = setInterval(() => void this.retryInvalidations(), opts.retryIntervalMs ?? 1_000);
    this.retryTimer.unref();
  }

  key(id: string): string {
    return `${this.opts.prefix}${this.kind}:${id}`;
  }

  private leaseKey(id: string): string {
    return `${this.opts.prefix}${this.kind}-lease:${id}`;
  }

  async read(ctx: RequestContext, id: string, load: () => Promise<T | null>): Promise<T | null> {
    const { redis } = this.opts;
    if (this.opts.faults.current.cache_bypass || this.pending.has(id)) {
      ctx.cache = 'bypass';
      return load();
    }
    let cached: string | null;
    try {
      cached = await timeCache(ctx, () => redis.get(this.key(id)));
    } catch {
      ctx.cache = 'bypass';
      return load();
    }
    if (cached !== null) {
      const value = parse<T>(cached);
      if (value !== undefined) {
        ctx.cache = 'hit';
        return value;
      }
    }
    ctx.cache = 'miss';
    const token = randomBytes(12).toString('base64url');
    const leased = await timeCache(ctx, () =>
      redis.set(this.leaseKey(id), token, 'PX', this.opts.leaseMs ?? 3_000, 'NX'),
    ).then(
      (r) => r === 'OK',
      () => false,
    );
    let value: T | null;
    try {
      value = await load();
    } catch (err) {
      if (leased) await this.dropLease(ctx, id, token);
      throw err;
    }
    if (leased) {
      if (value === null) await this.dropLease(ctx, id, token);
      else {
        const ttlMs = this.opts.ttlSeconds * 1000;
        await timeCache(ctx, () =>
          fillIfLeased.run(redis, [this.key(id), this.leaseKey(id)], [token, JSON.stringify(value), ttlMs]),
        ).catch(() => {});
      }
    }
    return value;
  }

  /** Call after the write committed. Never throws: a failure is retried in the background. */
  async invalidate(ctx: RequestContext | undefined, id: string): Promise<void> {
    try {
      await timeCache(ctx, () => this.opts.redis.del(this.key(id), this.leaseKey(id)));
      this.pending.delete(id);
    } catch {
      if (this.pending.size === 0)
        this.opts.log('warn', `cache invalidation failed; ${this.kind} ${id} bypasses the cache until Redis answers`);
      this.pending.add(id);
    }
  }

  /** Deletes every cached value of this kind (the `cache flush` admin action). */
  async flush(): Promise<number> {
    const { redis, prefix } = this.opts;
    let deleted = 0;
    for (const pattern of [`${prefix}${this.kind}:*`, `${prefix}${this.kind}-lease:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
    }
    return deleted;
  }

  close(): void {
    clearInterval(this.retryTimer);
  }

  private async dropLease(ctx: RequestContext, id: string, token: string): Promise<void> {
    await timeCache(ctx, () => compareAndDelete.run(this.opts.redis, [this.leaseKey(id)], [token])).catch(() => {});
  }

  private async retryInvalidations(): Promise<void> {
    for (const id of [...this.pending]) {
      try {
        await this.opts.redis.del(this.key(id), this.leaseKey(id));
        this.pending.delete(id);
      } catch {
        return; // still down; try again on the next tick
      }
    }
  }
}

function parse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
