import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/crm.js';
import { eventually } from '../helpers/wait.js';
import { PrivateRedis } from '../helpers/redis-server.js';

let seq = 0;
const newCustomer = async (h: Harness, age = 30): Promise<number> =>
  (
    await h.request('POST', '/api/customers', {
      name: 'Cache Test',
      email: `cache${++seq}.${Date.now()}@example.com`,
      age,
    })
  ).body.id;

/** GET a customer with a known request id and return what the access log says about the cache. */
async function cacheOf(
  h: Harness,
  id: number,
): Promise<{ status: number; cache: string | undefined; name: string | undefined }> {
  const rid = `cache-${++seq}`;
  const r = await h.request('GET', `/api/customers/${id}`, undefined, { 'x-request-id': rid });
  const entry = await h.entry(rid);
  return { status: r.status, cache: entry.cache, name: r.body?.name };
}

describe('customer cache-aside', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ cacheTtlSeconds: 120 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('misses, then hits, with a TTL on the cached value', async () => {
    const id = await newCustomer(h);
    expect(await cacheOf(h, id)).toMatchObject({ status: 200, cache: 'miss' });
    expect(await cacheOf(h, id)).toMatchObject({ status: 200, cache: 'hit' });
    const ttl = await h.redis.pttl(`${h.prefix}customer:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('is invalidated by update, points and delete', async () => {
    const id = await newCustomer(h);
    await cacheOf(h, id);
    expect((await cacheOf(h, id)).cache).toBe('hit');

    await h.request('PATCH', `/api/customers/${id}`, { name: 'Renamed' });
    expect(await cacheOf(h, id)).toMatchObject({ cache: 'miss', name: 'Renamed' });
    expect((await cacheOf(h, id)).cache).toBe('hit');

    await h.request('POST', `/api/customers/${id}/points`, { delta: 3 });
    expect((await cacheOf(h, id)).cache).toBe('miss');

    await h.request('DELETE', `/api/customers/${id}`);
    expect(await cacheOf(h, id)).toMatchObject({ status: 404, cache: 'miss' });
    expect(await h.redis.exists(`${h.prefix}customer:${id}`)).toBe(0);
  });

  it('does not cache a customer that does not exist', async () => {
    expect((await cacheOf(h, 987_654_321)).status).toBe(404);
    expect((await cacheOf(h, 987_654_321)).cache).toBe('miss');
  });

  it('refuses a stale fill: a write between the read and the fill deletes the lease', async () => {
    const id = await newCustomer(h);
    // A reader took the lease (as a slow reader would), then a write invalidated: the lease is gone.
    await h.redis.set(`${h.prefix}customer-lease:${id}`, 'slow-reader', 'PX', 5_000);
    await h.request('PATCH', `/api/customers/${id}`, { name: 'After Write' });
    expect(await h.redis.exists(`${h.prefix}customer-lease:${id}`)).toBe(0);
    expect(await cacheOf(h, id)).toMatchObject({ cache: 'miss', name: 'After Write' });
    expect(await cacheOf(h, id)).toMatchObject({ cache: 'hit', name: 'After Write' });
  });
});

describe('Redis outage', () => {
  let redis: PrivateRedis;
  let h: Harness;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    h = await startHarness({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
  });

  it('degrades to PostgreSQL (cache=bypass), refuses password changes, and recovers', async () => {
    const id = await newCustomer(h);
    const user = await h.request('POST', '/api/users', {
      email: `outage${Date.now()}@example.com`,
      password: 'correct horse',
    });
    await cacheOf(h, id);
    expect((await cacheOf(h, id)).cache).toBe('hit');

    await redis.kill();

    expect(await cacheOf(h, id)).toMatchObject({ status: 200, cache: 'bypass' });
    // Writes still succeed; the invalidation is retried later and the key bypasses the cache meanwhile.
    expect((await h.request('PATCH', `/api/customers/${id}`, { name: 'During Outage' })).status).toBe(200);
    expect(await cacheOf(h, id)).toMatchObject({ status: 200, cache: 'bypass', name: 'During Outage' });
    expect((await h.request('POST', `/api/customers/${id}/points`, { delta: 1 })).status).toBe(200);
    const rankings = await h.request('GET', '/api/rankings', undefined, { 'x-request-id': 'rank-outage' });
    expect(rankings.status).toBe(200);
    expect((await h.entry('rank-outage')).cache).toBe('bypass');

    // A lock whose state is unknown is not a lock: fail closed, with a hint to retry.
    const pw = await h.request(
      'POST',
      `/api/users/${user.body.id}/password`,
      { password: 'new password' },
      { 'x-request-id': 'pw-outage' },
    );
    expect(pw.status).toBe(503);
    expect(pw.headers.get('retry-after')).toBe('1');
    expect((await h.entry('pw-outage')).lock).toBe('timeout');

    const ready = await h.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.postgres).toBe('ok');
    expect(ready.body.redis).not.toBe('ok');
    expect((await h.request('GET', '/healthz')).status).toBe(200);

    await redis.restart();
    await eventually(
      async () => ((await h.request('GET', '/readyz')).status === 200 ? true : undefined),
      'readiness after Redis restart',
    );
    await eventually(
      async () => ((await cacheOf(h, id)).cache === 'hit' ? true : undefined),
      'cache hits after Redis restart',
    );
    expect((await cacheOf(h, id)).name).toBe('During Outage');
    expect((await h.request('POST', `/api/users/${user.body.id}/password`, { password: 'new password' })).status).toBe(
      200,
    );
  });
});
