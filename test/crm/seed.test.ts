import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/crm/db/migrate.js';
import { verifyPassword } from '../../src/crm/password.js';
import { seed } from '../../src/crm/seed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

describe('seed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('bulk-loads realistic customers, notes and users, and can run again', async () => {
    const progress: number[] = [];
    const result = await seed(db.pool, {
      customers: 2_500,
      users: 2,
      batchSize: 1_000,
      onProgress: (n) => progress.push(n),
    });
    expect(result.customers).toBe(2_500);
    expect(progress).toEqual([1_000, 2_000, 2_500]);
    const { rows } = await db.pool.query<{
      n: number;
      min_age: number;
      max_age: number;
      emails: number;
      negative: number;
    }>(
      'SELECT count(*)::int AS n, min(age) AS min_age, max(age) AS max_age, count(DISTINCT email)::int AS emails, count(*) FILTER (WHERE points < 0)::int AS negative FROM customers',
    );
    expect(rows[0]).toMatchObject({ n: 2_500, emails: 2_500, negative: 0 });
    expect(rows[0]!.min_age).toBeGreaterThanOrEqual(18);
    expect(rows[0]!.max_age).toBeLessThanOrEqual(90);
    const notes = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
    expect(notes.rows[0]!.n).toBe(result.notes);
    const users = await db.pool.query<{ password_hash: string }>('SELECT password_hash FROM users');
    expect(users.rows).toHaveLength(2);
    expect(await verifyPassword('not the password', users.rows[0]!.password_hash)).toBe(false);

    await seed(db.pool, { customers: 100, users: 0 });
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers')).rows[0]!.n).toBe(2_600);
  });
});
