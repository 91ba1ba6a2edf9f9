import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisLock } from '../../src/crm/lock.js';
import { verifyPassword } from '../../src/crm/password.js';
import { startHarness, type Harness } from '../helpers/crm.js';
import { eventually } from '../helpers/wait.js';
import { deleteKeys, newRedisClient, randomPrefix } from '../helpers/redis-server.js';

describe('RedisLock', () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let lock: RedisLock;
  beforeAll(async () => {
    redis = await newRedisClient();
    lock = new RedisLock(redis, prefix);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('is exclusive, reports the holder lease, and only its token releases it', async () => {
    const a = await lock.acquire('x', { ttlMs: 10_000, waitMs: 0 });
    expect(a.outcome).toBe('acquired');
    const b = await lock.acquire('x', { ttlMs: 10_000, waitMs: 0 });
    expect(b.outcome).toBe('contended');
    if (b.outcome === 'contended') {
      expect(b.retryAfterMs).toBeGreaterThan(0);
      expect(b.retryAfterMs).toBeLessThanOrEqual(10_000);
    }
    expect(await lock.release('x', 'not-the-token')).toBe(false);
    expect(await redis.exists(lock.key('x'))).toBe(1);
    if (a.outcome === 'acquired') expect(await lock.release('x', a.token)).toBe(true);
    expect(await redis.exists(lock.key('x'))).toBe(0);
  });

  it('a crashed holder (never releases) loses the lock when its lease expires', async () => {
    const crashed = await lock.acquire('y', { ttlMs: 300, waitMs: 0 });
    expect(crashed.outcome).toBe('acquired');
    expect(await redis.pttl(lock.key('y'))).toBeGreaterThan(0);
    const next = await eventually(async () => {
      const r = await lock.acquire('y', { ttlMs: 10_000, waitMs: 0 });
      return r.outcome === 'acquired' ? r : undefined;
    }, 'the expired lock');
    // The crashed holder waking up cannot delete the new holder's lock.
    if (crashed.outcome === 'acquired') expect(await lock.release('y', crashed.token)).toBe(false);
    expect(await redis.get(lock.key('y'))).toBe(next.token);
  });

  it('waits (bounded) for a holder that releases', async () => {
    const a = await lock.acquire('z', { ttlMs: 10_000, waitMs: 0 });
    setTimeout(() => void (a.outcome === 'acquired' && lock.release('z', a.token)), 50);
    const b = await lock.acquire('z', { ttlMs: 10_000, waitMs: 5_000 });
    expect(b.outcome).toBe('acquired');
  });
});

describe('password change under the lock', () => {
  let h: Harness;
  const admin = { authorization: 'Bearer lock-test-token' };
  beforeAll(async () => {
    h = await startHarness({ adminToken: 'lock-test-token', lockWaitMs: 100 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const newUser = async (password: string): Promise<number> => {
    const r = await h.request('POST', '/api/users', { email: `lock${Math.random()}@example.com`, password });
    expect(r.status).toBe(201);
    return r.body.id;
  };

  it('two concurrent changes: exactly one succeeds, the other gets 409 with Retry-After', async () => {
    const id = await newUser('initial password');
    // Widen the critical section so the two requests certainly overlap.
    await h.request('PUT', '/admin/faults', { lock_hold_ms: 1_500 }, admin);
    try {
      const [a, b] = await Promise.all(
        ['first new password', 'second new password'].map((password, i) =>
          h.request('POST', `/api/users/${id}/password`, { password }, { 'x-request-id': `pw-${id}-${i}` }),
        ),
      );
      expect([a!.status, b!.status].sort()).toEqual([200, 409]);
      const loser = a!.status === 409 ? a! : b!;
      expect(Number(loser.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(loser.body.error).toMatch(/in progress/);
      const entries = [await h.entry(`pw-${id}-0`), await h.entry(`pw-${id}-1`)];
      expect(entries.map((e) => e.lock).sort()).toEqual(['acquired', 'contended']);
      for (const e of entries) expect(typeof e.lock_wait_ms).toBe('number');
    } finally {
      await h.request('DELETE', '/admin/faults', undefined, admin);
    }
  });

  it('a holder whose lease ran out mid-change cannot commit over the next holder (fenced write)', async () => {
    // A tiny lease and a long hold: the first change is still working when its lease expires and a second one
    // takes the lock. Only one of the two overlapping changes may succeed, the other must get the documented 409.
    const short = await startHarness({ adminToken: 'lock-test-token', lockTtlMs: 200, lockWaitMs: 0 });
    try {
      const r = await short.request('POST', '/api/users', {
        email: `fence${Math.random()}@example.com`,
        password: 'initial password',
      });
      const id: number = r.body.id;
      const key = `${short.prefix}lock:user:${id}:password`;
      await short.request('PUT', '/admin/faults', { lock_hold_ms: 2_500 }, admin);
      const first = short.request(
        'POST',
        `/api/users/${id}/password`,
        { password: 'first new password' },
        { 'x-request-id': `fence-${id}-0` },
      );
      await eventually(
        async () => ((await short.redis.exists(key)) === 1 ? true : undefined),
        'the first change to take the lock',
      );
      await eventually(
        async () => ((await short.redis.exists(key)) === 0 ? true : undefined),
        'the first lease to expire',
      );
      const second = short.request(
        'POST',
        `/api/users/${id}/password`,
        { password: 'second new password' },
        { 'x-request-id': `fence-${id}-1` },
      );
      const [a, b] = await Promise.all([first, second]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(Number(loser.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const winner = a.status === 200 ? 'first new password' : 'second new password';
      const { rows } = await short.db.pool.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [
        id,
      ]);
      expect(await verifyPassword(winner, rows[0]!.h)).toBe(true);
    } finally {
      await short.request('DELETE', '/admin/faults', undefined, admin);
      await short.stop();
    }
  });

  it('a crashed holder blocks changes only until its lease expires', async () => {
    const id = await newUser('initial password');
    await h.redis.set(`${h.prefix}lock:user:${id}:password`, 'token-of-a-dead-process', 'PX', 1_500);
    const blocked = await h.request('POST', `/api/users/${id}/password`, { password: 'changed password' });
    expect(blocked.status).toBe(409);
    expect(['1', '2']).toContain(blocked.headers.get('retry-after'));
    await eventually(
      async () =>
        (await h.request('POST', `/api/users/${id}/password`, { password: 'changed password' })).status === 200
          ? true
          : undefined,
      'the lease to expire',
    );
  });

  it('stores only a salted scrypt hash that neither equals nor contains the password', async () => {
    const password = 'Tr0ub4dor&3-horse';
    const id = await newUser(password);
    const hashOf = async (): Promise<string> =>
      (await h.db.pool.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [id])).rows[0]!.h;
    const first = await hashOf();
    expect(first).not.toBe(password);
    expect(first).not.toContain(password);
    expect(first).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword(password, first)).toBe(true);
    expect(await verifyPassword('wrong password', first)).toBe(false);

    expect(
      (await h.request('POST', `/api/users/${id}/password`, { password }, { 'x-request-id': 'pw-same' })).status,
    ).toBe(200);
    const second = await hashOf();
    expect(second).not.toBe(first); // fresh salt
    expect(second).not.toContain(password);

    const user = await h.request('GET', `/api/users/${id}`);
    expect(Object.keys(user.body).sort()).toEqual(['email', 'id', 'updated_at']);
    expect((await h.log('pw-same')).some((e) => JSON.stringify(e).includes(password))).toBe(false);
  });

  it('404s for a user that does not exist', async () => {
    expect((await h.request('POST', '/api/users/999999999/password', { password: 'whatever long' })).status).toBe(404);
  });
});
