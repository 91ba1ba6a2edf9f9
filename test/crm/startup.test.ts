import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../src/crm/db/migrate.js';
import { migrations } from '../../src/crm/db/migrations.js';
import { CrmStartError } from '../../src/crm/errors.js';
import { silentLogger } from '../../src/crm/log.js';
import { main } from '../../src/crm/main.js';
import { startCrmService } from '../../src/crm/service.js';
import { request, startHarness, type Harness } from '../helpers/crm.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { freePort } from '../helpers/net.js';
import { REDIS_URL } from '../helpers/redis-server.js';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('apply once, record their versions, and are idempotent', async () => {
    const first = await migrate(db.pool);
    // Versions written out: a migration dropped from (or never added to) the list fails here.
    expect(first.applied).toEqual([1, 2, 3]);
    const second = await migrate(db.pool);
    expect(second.applied).toEqual([]);
    const { rows } = await db.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
    const idx = await db.pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'customers'",
    );
    expect(idx.rows.map((r) => r.indexname)).toEqual(
      expect.arrayContaining(['customers_age_idx', 'customers_points_idx', 'customers_email_key']),
    );
  });

  it('run concurrently without conflict', async () => {
    const results = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    expect(results.every((r) => r.applied.length === 0)).toBe(true);
  });

  it('refuse an applied migration whose text changed', async () => {
    const changed = migrations.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(migrate(db.pool, changed)).rejects.toThrow(/migration 1 .* was changed/);
  });
});

describe('start-up without its servers', () => {
  it('names PostgreSQL, in one line without a stack trace', async () => {
    const port = await freePort();
    const err = await startCrmService({
      databaseUrl: `postgres://postgres:hunter2@127.0.0.1:${port}/crm`,
      redisUrl: REDIS_URL,
      port: 0,
      accessLog: false,
      log: silentLogger,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmStartError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /^PostgreSQL is unreachable at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/crm: .*ECONNREFUSED/,
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('\n');
  });

  it('names Redis, in one line without a stack trace', async () => {
    const db = await createTestDatabase();
    try {
      const port = await freePort();
      const err = await startCrmService({
        databaseUrl: db.url,
        redisUrl: `redis://127.0.0.1:${port}`,
        port: 0,
        accessLog: false,
        log: silentLogger,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CrmStartError);
      expect((err as Error).message).toMatch(/^Redis is unreachable at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    } finally {
      await db.drop();
    }
  });

  it('makes the CLI exit 1 with that message only', async () => {
    const port = await freePort();
    const stderr: string[] = [];
    const spy = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
    try {
      expect(await main(['serve', '--database-url', `postgres://postgres@127.0.0.1:${port}/crm`, '--port', '0'])).toBe(
        1,
      );
      expect(await main(['--port', 'many'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(stderr[0]).toMatch(/^crm-service: PostgreSQL is unreachable at .*\n$/);
    expect(stderr[0]).not.toMatch(/\n\s+at /);
    expect(stderr[1]).toMatch(/PORT must be an integer/);
  });
});

describe('health and shutdown', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adminToken: 'shutdown-token' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await h.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await h.request('GET', '/readyz')).body).toEqual({ status: 'ready', postgres: 'ok', redis: 'ok' });
  });

  it('finishes in-flight requests on close, then refuses new ones', async () => {
    await h.request(
      'PUT',
      '/admin/faults',
      { latency_ms: 400, latency_route: '/api/rankings' },
      { authorization: 'Bearer shutdown-token' },
    );
    const inFlight = h.request('GET', '/api/rankings', undefined, { 'x-request-id': 'in-flight' });
    await new Promise((r) => setTimeout(r, 100)); // let the request reach the server
    const closing = h.svc.close();
    const r = await inFlight;
    expect(r.status).toBe(200);
    await closing;
    await expect(request(h.svc.url, 'GET', '/healthz')).rejects.toThrow();
    // The log was flushed on close, including the in-flight request.
    expect((await h.log()).some((e) => e.request_id === 'in-flight' && e.status === 200)).toBe(true);
  });
});
