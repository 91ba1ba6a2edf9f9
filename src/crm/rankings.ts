import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FaultState } from './admin/faults.js';
import { timeCache, type RequestContext } from './context.js';
import type { Database, SqlRunner } from './db/database.js';
import { errorMessage, type Logger } from './log.js';
import { LuaScript } from './lua.js';
import { topByPoints } from './repositories/customers.js';

/** Updates a member only while the set exists: a missing set is rebuilt from PostgreSQL, never half-built by writes. */
const zaddIfExists = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
end
return -1`);

export interface RankEntry {
  rank: number;
  id: number;
  points: number;
}

export interface RankingsOptions {
  redis: Redis;
  prefix: string;
  db: Database;
  faults: FaultState;
  log: Logger;
  /** The set expires and is rebuilt after this long, which also heals any drift. */
  ttlSeconds: number;
}

// Members are zero-padded ids, so ties (equal points) sort by id in Redis exactly as `id DESC` does in SQL.
const member = (id: number): string => String(id).padStart(19, '0');

/**
 * Top customers by points from a Redis sorted set kept in step with writes. Writes set the absolute score
 * inside the transaction that holds the row lock, so concurrent writes to one customer reach Redis in
 * commit order. A missing set is served from PostgreSQL (customers_points_idx) while it is rebuilt.
 */
export class Rankings {
  private rebuilding: Promise<void> | undefined;
  /** A write could not reach Redis: the set may be stale and is dropped as soon as Redis answers. */
  private dirty = false;

  constructor(private readonly opts: RankingsOptions) {}

  get key(): string {
    return `${this.opts.prefix}rankings:points`;
  }

  async top(ctx: RequestContext, limit: number): Promise<RankEntry[]> {
    const { redis } = this.opts;
    const fromDb = async (): Promise<RankEntry[]> =>
      (await topByPoints(this.opts.db.forRequest(ctx), limit)).map((r, i) => ({
        rank: i + 1,
        id: r.id,
        points: r.points,
      }));
    if (this.opts.faults.current.cache_bypass) {
      ctx.cache = 'bypass';
      return fromDb();
    }
    let reply: [exists: number, members: string[]];
    try {
      if (this.dirty) {
        await timeCache(ctx, () => redis.del(this.key));
        this.dirty = false;
      }
      const [exists, members] = await timeCache(ctx, () =>
        execOrThrow(
          redis
            .multi()
            .exists(this.key)
            .zrevrange(this.key, 0, limit - 1, 'WITHSCORES'),
        ),
      );
      reply = [Number(exists), (members as string[] | undefined) ?? []];
    } catch {
      ctx.cache = 'bypass';
      return fromDb();
    }
    if (reply[0] !== 1) {
      ctx.cache = 'miss';
      void this.rebuild().catch((err: unknown) =>
        this.opts.log('warn', `rankings rebuild failed: ${errorMessage(err)}`),
      );
      return fromDb();
    }
    ctx.cache = 'hit';
    const entries: RankEntry[] = [];
    for (let i = 0; i + 1 < reply[1].length; i += 2) {
      entries.push({ rank: entries.length + 1, id: Number(reply[1][i]), points: Number(reply[1][i + 1]) });
    }
    return entries;
  }

  /** Call inside the transaction that changed the points, before COMMIT. Never throws. */
  async setPoints(ctx: RequestContext | undefined, id: number, points: number): Promise<void> {
    try {
      await timeCache(ctx, () => zaddIfExists.run(this.opts.redis, [this.key], [points, member(id)]));
    } catch {
      this.dirty = true;
    }
  }

  async remove(ctx: RequestContext | undefined, id: number): Promise<void> {
    try {
      await timeCache(ctx, () => this.opts.redis.zrem(this.key, member(id)));
    } catch {
      this.dirty = true;
    }
  }

  /** Resolves when no rebuild is running (shutdown waits for it before closing the pools). */
  async idle(): Promise<void> {
    await this.rebuilding?.catch(() => {});
  }

  /** Deletes the set (admin cache flush); the next read rebuilds it. */
  async drop(): Promise<boolean> {
    return (await this.opts.redis.del(this.key)) === 1;
  }

  /** Rebuilds the whole set; concurrent callers share one run. */
  rebuild(): Promise<void> {
    this.rebuilding ??= this.doRebuild().finally(() => {
      this.rebuilding = undefined;
    });
    return this.rebuilding;
  }

  private async doRebuild(): Promise<void> {
    const { redis } = this.opts;
    const db: SqlRunner = this.opts.db.forRequest();
    const tmp = `${this.key}:rebuild:${randomBytes(6).toString('hex')}`;
    const { rows: started } = await db.query<{ at: Date }>('SELECT clock_timestamp() AS at');
    let afterId = 0;
    let count = 0;
    try {
      for (;;) {
        const { rows } = await db.query<{ id: string; points: number }>(
          'SELECT id, points FROM customers WHERE id > $1 ORDER BY id LIMIT 5000',
          [afterId],
        );
        if (rows.length === 0) break;
        const args: (string | number)[] = [];
        for (const r of rows) args.push(r.points, member(Number(r.id)));
        await execOrThrow(
          redis
            .multi()
            .zadd(tmp, ...args)
            .pexpire(tmp, 120_000),
        );
        afterId = Number(rows[rows.length - 1]!.id);
        count += rows.length;
      }
      if (count === 0) return;
      await execOrThrow(redis.multi().rename(tmp, this.key).expire(this.key, this.opts.ttlSeconds));
    } finally {
      await redis.del(tmp).catch(() => {});
    }
    // Catch up with writes that committed while the snapshot was being copied (their ZADD found no set).
    // FOR SHARE makes a concurrent writer of those rows wait, so its own ZADD lands after ours.
    await this.opts.db.forRequest().transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; points: number }>(
        "SELECT id, points FROM customers WHERE updated_at >= $1::timestamptz - interval '10 seconds' FOR SHARE",
        [started[0]!.at],
      );
      for (const r of rows) await this.setPoints(undefined, Number(r.id), r.points);
    });
  }
}

/** EXEC's per-command errors do not reject in ioredis; surface them. */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const results = (await multi.exec()) ?? [];
  for (const [err] of results) if (err) throw err;
  return results.map(([, value]) => value);
}
