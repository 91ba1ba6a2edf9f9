import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/crm.js';
import { eventually } from '../helpers/wait.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

interface Entry {
  rank: number;
  id: number;
  points: number;
}

/** The truth: PostgreSQL's order, ties by id descending. */
async function expected(limit: number): Promise<Entry[]> {
  const { rows } = await h.db.pool.query<{ id: string; points: number }>(
    'SELECT id, points FROM customers ORDER BY points DESC, id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r, i) => ({ rank: i + 1, id: Number(r.id), points: r.points }));
}

let seq = 0;
async function rankings(limit: number): Promise<{ items: Entry[]; cache: string | undefined }> {
  const rid = `rank-${++seq}`;
  const r = await h.request('GET', `/api/rankings?limit=${limit}`, undefined, { 'x-request-id': rid });
  expect(r.status).toBe(200);
  return { items: r.body.items, cache: (await h.entry(rid)).cache };
}

const key = (): string => `${h.prefix}rankings:points`;
const waitForSet = (): Promise<true> =>
  eventually(async () => ((await h.redis.exists(key())) === 1 ? true : undefined), 'rankings rebuild');

describe('rankings', () => {
  const ids: number[] = [];

  it('starts from PostgreSQL (miss), rebuilds the sorted set, then serves it (hit) in the same order', async () => {
    for (const [i, points] of [10, 50, 30, 50, 0, 20, 40].entries()) {
      ids.push(
        (
          await h.request('POST', '/api/customers', {
            name: `R${i}`,
            email: `rank${i}.${Date.now()}@example.com`,
            age: 30,
            points,
          })
        ).body.id,
      );
    }
    const first = await rankings(5);
    expect(first.cache).toBe('miss');
    expect(first.items).toEqual(await expected(5));
    await waitForSet();
    const second = await rankings(5);
    expect(second.cache).toBe('hit');
    expect(second.items).toEqual(await expected(5));
    // Ties (two customers at 50) are ordered by id descending in both stores.
    expect(second.items[0]!.points).toBe(50);
    expect(second.items[0]!.id).toBeGreaterThan(second.items[1]!.id);
  });

  it('stays in step with point changes, creates and deletes', async () => {
    await h.request('POST', `/api/customers/${ids[4]}/points`, { delta: 100 });
    await h.request('POST', `/api/customers/${ids[1]}/points`, { delta: -45 });
    const created = await h.request('POST', '/api/customers', {
      name: 'New',
      email: `rank-new.${Date.now()}@example.com`,
      age: 30,
      points: 75,
    });
    await h.request('DELETE', `/api/customers/${ids[3]}`);
    const r = await rankings(100);
    expect(r.cache).toBe('hit');
    expect(r.items).toEqual(await expected(100));
    expect(r.items[0]!.id).toBe(ids[4]);
    expect(r.items[1]!.id).toBe(created.body.id);
    expect(r.items.map((e) => e.id)).not.toContain(ids[3]);
  });

  it('stays consistent under concurrent point changes to the same customers', async () => {
    const targets = ids.slice(0, 3);
    const writes = Array.from({ length: 45 }, (_, i) =>
      h.request('POST', `/api/customers/${targets[i % 3]}/points`, { delta: (i % 7) - 2 }),
    );
    for (const w of await Promise.all(writes)) expect(w.status).toBe(200);
    const r = await rankings(100);
    expect(r.cache).toBe('hit');
    expect(r.items).toEqual(await expected(100));
  });

  it('rebuilds when the sorted set is missing', async () => {
    await h.redis.del(key());
    const missing = await rankings(100);
    expect(missing.cache).toBe('miss');
    expect(missing.items).toEqual(await expected(100));
    await waitForSet();
    const rebuilt = await rankings(100);
    expect(rebuilt.cache).toBe('hit');
    expect(rebuilt.items).toEqual(await expected(100));
    expect(await h.redis.ttl(key())).toBeGreaterThan(0);
  });

  it('does not let writes half-build a missing set', async () => {
    await h.redis.del(key());
    await h.request('POST', `/api/customers/${ids[0]}/points`, { delta: 1 });
    expect(await h.redis.exists(key())).toBe(0);
  });
});
