import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/crm/rate-limit.js';
import { startHarness, type Harness } from '../helpers/crm.js';

describe('TokenBucket', () => {
  it('grants the burst, then one token per 1/rate seconds, and says how long to wait', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.take()).toBe(500);
    now = 250;
    expect(bucket.take()).toBe(250);
    now = 500;
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(500);
  });

  it('never saves up more than the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    now = 60_000;
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBeGreaterThan(0);
  });

  it.each([
    [0, 1],
    [1, 0],
    [Number.NaN, 1],
  ])('refuses rate %d, burst %d', (rate, burst) => {
    expect(() => new TokenBucket(rate, burst)).toThrow(RangeError);
  });
});

describe('password hashing is rate-limited (each hash is a 32 MiB scrypt)', () => {
  let h: Harness;
  const PLACEHOLDER = 'scrypt$placeholder';
  beforeAll(async () => {
    // 1 per second, bursts of 2: a handful of simultaneous requests must overflow it.
    h = await startHarness({ passwordRate: 1 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('password changes beyond the limit get 429 with Retry-After and change nothing', async () => {
    const { rows } = await h.db.pool.query<{ id: string }>(
      `INSERT INTO users (email, password_hash) SELECT 'rl' || g || '-' || md5(random()::text) || '@example.com', $1 FROM generate_series(1, 8) g RETURNING id`,
      [PLACEHOLDER],
    );
    const ids = rows.map((r) => Number(r.id));
    const results = await Promise.all(
      ids.map((id) =>
        h.request('POST', `/api/users/${id}/password`, { password: 'a new password' }, { 'x-request-id': `rl-${id}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 429),
      String(statuses),
    ).toBe(true);
    expect(statuses.filter((s) => s === 429).length, String(statuses)).toBeGreaterThanOrEqual(1);
    for (const [i, r] of results.entries()) {
      if (r.status !== 429) continue;
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.body.error).toMatch(/too many password changes/);
      const stored = await h.db.pool.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [
        ids[i],
      ]);
      expect(stored.rows[0]!.h).toBe(PLACEHOLDER);
      expect((await h.entry(`rl-${ids[i]}`)).status).toBe(429);
    }
  });

  it('so are new users (they hash a password too)', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.request('POST', '/api/users', {
          email: `rl-new-${i}-${Math.random()}@example.com`,
          password: 'long enough pw',
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 429),
      String(statuses),
    ).toBe(true);
    expect(statuses.filter((s) => s === 429).length, String(statuses)).toBeGreaterThanOrEqual(1);
  });
});
