import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createDatabase } from '../../src/crm/db/database.js';
import { newPool } from '../../src/crm/db/connect.js';
import { silentLogger } from '../../src/crm/log.js';
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from '../helpers/postgres.js';

// A connection that dies while a transaction holds it (PostgreSQL restarted, backend terminated) must reject that
// request, not crash the service: pg-pool listens for a client's 'error' only while the client is idle, so without
// a listener of our own the client's 'error' event is an uncaught exception (vitest fails the run on it).
describe('a transaction whose connection is lost', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = newPool(db.url, 2, silentLogger);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('rejects the request, drops the dead connection and keeps serving', async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      const runner = createDatabase(pool).forRequest();
      const outcome = runner.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await tx.query('SELECT pg_sleep(0.2)');
      });
      await expect(outcome).rejects.toThrow();
      // Give the client's 'error' event its turn: an unhandled one would surface as an uncaught exception here.
      await new Promise((r) => setTimeout(r, 200));
      const { rows } = await runner.query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0]?.one).toBe(1);
    } finally {
      await admin.end();
    }
  });
});
