import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGE_PAGE_SQL } from '../../src/crm/repositories/customers.js';
import { encodeCursor } from '../../src/crm/http/validation.js';
import { startHarness, type Harness } from '../helpers/crm.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

let seq = 0;
const email = (): string => `c${++seq}.${Date.now()}@example.com`;

describe('customers CRUD', () => {
  it('creates, reads, updates and deletes a customer', async () => {
    const created = await h.request('POST', '/api/customers', {
      name: 'Ada Lovelace',
      email: 'Ada@Example.com',
      age: 36,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', age: 36, points: 0 });
    expect(created.headers.get('location')).toBe(`/api/customers/${created.body.id}`);
    const id = created.body.id as number;

    const read = await h.request('GET', `/api/customers/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const updated = await h.request('PATCH', `/api/customers/${id}`, { name: 'Augusta Ada King', age: 37 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'Augusta Ada King', email: 'ada@example.com', age: 37 });

    expect((await h.request('GET', `/api/customers/${id}`)).body.name).toBe('Augusta Ada King');
    expect((await h.request('DELETE', `/api/customers/${id}`)).status).toBe(204);
    expect((await h.request('GET', `/api/customers/${id}`)).status).toBe(404);
    expect((await h.request('DELETE', `/api/customers/${id}`)).status).toBe(404);
    expect((await h.request('PATCH', `/api/customers/${id}`, { age: 3 })).status).toBe(404);
  });

  it('rejects a duplicate email with 409 naming the field', async () => {
    const e = email();
    expect((await h.request('POST', '/api/customers', { name: 'One', email: e, age: 30 })).status).toBe(201);
    const dup = await h.request('POST', '/api/customers', { name: 'Two', email: e.toUpperCase(), age: 31 });
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('email');
  });

  it('adds points and 404s for a missing customer', async () => {
    const c = (await h.request('POST', '/api/customers', { name: 'P', email: email(), age: 20, points: 5 })).body;
    const r = await h.request('POST', `/api/customers/${c.id}/points`, { delta: -7 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: c.id, points: -2 });
    expect((await h.request('POST', '/api/customers/999999999/points', { delta: 1 })).status).toBe(404);
  });

  it('keeps notes per customer, newest first, with keyset pages', async () => {
    const c = (await h.request('POST', '/api/customers', { name: 'N', email: email(), age: 50 })).body;
    for (const body of ['first', 'second', 'third'])
      expect((await h.request('POST', `/api/customers/${c.id}/notes`, { body })).status).toBe(201);
    const page1 = await h.request('GET', `/api/customers/${c.id}/notes?limit=2`);
    expect(page1.body.items.map((n: { body: string }) => n.body)).toEqual(['third', 'second']);
    const page2 = await h.request('GET', `/api/customers/${c.id}/notes?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((n: { body: string }) => n.body)).toEqual(['first']);
    expect(page2.body.next_cursor).toBeNull();
    expect((await h.request('GET', '/api/customers/999999999/notes')).status).toBe(404);
    expect((await h.request('POST', '/api/customers/999999999/notes', { body: 'x' })).status).toBe(404);
  });
});

describe('age search with keyset pagination', () => {
  it('pages through an exact age without gaps or repeats', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await h.request('POST', '/api/customers', { name: `Age ${i}`, email: email(), age: 117 })).body.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Awaited<ReturnType<Harness['request']>> = await h.request(
        'GET',
        `/api/customers?age=117&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((c: { id: number; age: number }) => (expect(c.age).toBe(117), c.id)));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('orders a range by age then id', async () => {
    for (const age of [121, 119, 120, 119])
      await h.request('POST', '/api/customers', { name: 'R', email: email(), age });
    const r = await h.request('GET', '/api/customers?min_age=119&max_age=121&limit=500');
    const keys = r.body.items.map((c: { age: number; id: number }) => [c.age, c.id]);
    expect(keys.map((k: number[]) => k[0])).toEqual([119, 119, 120, 121]);
    expect(keys).toEqual([...keys].sort((a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]!));
  });

  it('never returns ages below min_age, even for a cursor from another range', async () => {
    const foreign = encodeCursor({ kind: 'age', age: 5, id: 1 });
    const r = await h.request('GET', `/api/customers?min_age=119&max_age=121&cursor=${foreign}`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeGreaterThan(0);
    for (const c of r.body.items) expect(c.age).toBeGreaterThanOrEqual(119);
  });

  it('has query shapes the indexes serve (EXPLAIN)', async () => {
    const client = await h.db.pool.connect();
    try {
      await client.query('SET enable_seqscan = off'); // the test table is tiny; ask whether the index *can* serve it
      const plan = async (sql: string, params: unknown[]): Promise<string> =>
        (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      const age = await plan(AGE_PAGE_SQL, [42, 0, 42, 21]);
      expect(age).toMatch(/Index Scan using customers_age_idx/);
      expect(age).not.toMatch(/Sort/);
      const top = await plan('SELECT id, points FROM customers ORDER BY points DESC, id DESC LIMIT $1', [10]);
      expect(top).toMatch(/Index (Only )?Scan using customers_points_idx/);
      expect(top).not.toMatch(/Sort/);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });

  it('lists everything by id when no age is given', async () => {
    const first = await h.request('GET', '/api/customers?limit=2');
    const second = await h.request('GET', `/api/customers?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items[0].id).toBeGreaterThan(first.body.items[1].id);
    // A cursor from one kind of query is refused by the other.
    const mixed = await h.request('GET', `/api/customers?age=30&cursor=${first.body.next_cursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.field).toBe('cursor');
  });
});

describe('validation: 400 naming the bad field', () => {
  it.each([
    ['POST', '/api/customers', { email: 'a@b.io', age: 3 }, 'name'],
    ['POST', '/api/customers', { name: '   ', email: 'a@b.io', age: 3 }, 'name'],
    ['POST', '/api/customers', { name: 'x'.repeat(201), email: 'a@b.io', age: 3 }, 'name'],
    ['POST', '/api/customers', { name: 'A\u0000B', email: 'a@b.io', age: 3 }, 'name'],
    ['POST', '/api/customers', { name: 'A', email: 'not-an-email', age: 3 }, 'email'],
    ['POST', '/api/customers', { name: 'A', email: 'a@b.io', age: -1 }, 'age'],
    ['POST', '/api/customers', { name: 'A', email: 'a@b.io', age: 1.5 }, 'age'],
    ['POST', '/api/customers', { name: 'A', email: 'a@b.io', age: '30' }, 'age'],
    ['POST', '/api/customers', { name: 'A', email: 'a@b.io', age: 30, admin: true }, 'admin'],
    ['POST', '/api/customers', [1, 2], '(body)'],
    ['POST', '/api/customers', '{"name": ', '(body)'],
    ['PATCH', '/api/customers/1', {}, '(body)'],
    ['PATCH', '/api/customers/1', { points: 5 }, 'points'],
    ['GET', '/api/customers/abc', undefined, 'id'],
    ['GET', '/api/customers/0', undefined, 'id'],
    ['GET', '/api/customers/99999999999999999999', undefined, 'id'],
    ['GET', '/api/customers?age=abc', undefined, 'age'],
    ['GET', '/api/customers?age=151', undefined, 'age'],
    ['GET', '/api/customers?age=30&age=31', undefined, 'age'],
    ['GET', '/api/customers?limit=0', undefined, 'limit'],
    ['GET', '/api/customers?limit=501', undefined, 'limit'],
    ['GET', '/api/customers?min_age=50&max_age=40', undefined, 'min_age'],
    ['GET', '/api/customers?age=30&min_age=20', undefined, 'age'],
    ['GET', '/api/customers?cursor=garbage', undefined, 'cursor'],
    ['GET', '/api/customers?sort=name', undefined, 'sort'],
    ['POST', '/api/customers/1/points', { delta: 1.5 }, 'delta'],
    ['POST', '/api/customers/1/points', { delta: 10_000_000 }, 'delta'],
    ['POST', '/api/customers/1/notes', { body: '' }, 'body'],
    ['POST', '/api/customers/1/notes', { body: 'nul \u0000 inside' }, 'body'],
    ['GET', '/api/rankings?limit=101', undefined, 'limit'],
    ['POST', '/api/users', { email: 'u@b.io', password: 'short' }, 'password'],
    ['POST', '/api/users', { email: 'nope', password: 'long enough' }, 'email'],
    ['POST', '/api/users/1/password', { password: 123456789 }, 'password'],
    ['POST', '/api/users/1/password', { password: 'long enough', current: 'x' }, 'current'],
  ])('%s %s %j -> field %s', async (method, path, body, field) => {
    const r = await h.request(method, path, body);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
    expect(r.body.error).toMatch(new RegExp(`^${field.replace(/[()]/g, '\\$&')}: |not valid JSON`));
    expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  });

  it('answers unknown endpoints with a JSON 404', async () => {
    const r = await h.request('GET', '/api/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.error).toBe('no such endpoint');
  });
});

describe('SQL injection attempts are stored verbatim or rejected, never executed', () => {
  const payloads = [
    "'; DROP TABLE customers; --",
    "' OR '1'='1",
    "Robert'); DROP TABLE users;--",
    '1; SELECT pg_sleep(10)',
    '$1 $2 \\x00',
    "'||(SELECT password_hash FROM users LIMIT 1)||'",
  ];

  it.each(payloads)('string fields: %s', async (p) => {
    const c = await h.request('POST', '/api/customers', { name: p, email: email(), age: 40 });
    expect(c.status).toBe(201);
    expect(c.body.name).toBe(p);
    expect((await h.request('GET', `/api/customers/${c.body.id}`)).body.name).toBe(p);
    expect((await h.request('PATCH', `/api/customers/${c.body.id}`, { name: p })).body.name).toBe(p);
    const note = await h.request('POST', `/api/customers/${c.body.id}/notes`, { body: p });
    expect(note.body.body).toBe(p);

    // Emails and passwords: either rejected by validation or stored as plain data.
    const e = await h.request('POST', '/api/customers', { name: 'E', email: `${p}@example.com`, age: 40 });
    expect([201, 400]).toContain(e.status);
    const u = await h.request('POST', '/api/users', { email: email(), password: `${p}-long-enough` });
    expect(u.status).toBe(201);
    expect((await h.request('POST', `/api/users/${u.body.id}/password`, { password: `${p}-long-enough` })).status).toBe(
      200,
    );

    // Query string, cursor and path: validated before any SQL.
    for (const path of [
      `/api/customers?age=${encodeURIComponent(p)}`,
      `/api/customers?cursor=${encodeURIComponent(p)}`,
      `/api/customers/${encodeURIComponent(p)}`,
      `/api/rankings?limit=${encodeURIComponent(p)}`,
    ]) {
      expect((await h.request('GET', path)).status).toBe(400);
    }
  });

  it('left every table and row in place', async () => {
    const { rows } = await h.db.pool.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    expect(rows.map((r) => r.t)).toEqual(['customers', 'notes', 'schema_migrations', 'users']);
    const names = await h.db.pool.query<{ n: string }>(
      'SELECT count(*)::int AS n FROM customers WHERE name = ANY($1)',
      [payloads],
    );
    expect(names.rows[0]!.n).toBe(payloads.length);
  });
});
