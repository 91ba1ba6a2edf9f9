import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { APPLICATION_NAME, PgPools, postgresUrlProblem, readPasswordFile } from '../../src/exporter/sources/pg-pool.js';
import {
  connect,
  createTestDatabase,
  sharedUrl,
  sleep,
  startPrivateInstance,
  type PrivateInstance,
  type TestDatabase,
} from '../helpers/postgres.js';
import { eventually } from '../helpers/wait.js';

let db: TestDatabase;
let other: TestDatabase;
let direct: pg.Client;
const dir = mkdtempSync(join(tmpdir(), 'crm-pgpool-'));
const pools: PgPools[] = [];

function make(options: Partial<ConstructorParameters<typeof PgPools>[0]> & { url: string }): PgPools {
  const p = new PgPools({ timeoutMs: 2_000, ...options });
  pools.push(p);
  return p;
}

async function exporterSessions(database: string): Promise<number> {
  const { rows } = await direct.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
    [database, APPLICATION_NAME],
  );
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  db = await createTestDatabase('pool');
  other = await createTestDatabase('pool2');
  direct = await connect(sharedUrl());
});

afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.close()));
  await direct?.end().catch(() => undefined);
  await db?.drop();
  await other?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('PgPools (shared server)', () => {
  it('connects with application_name=crm-exporter and statement_timeout = the timeout', async () => {
    const p = make({ url: db.url, timeoutMs: 1_234 });
    const { rows } = await p
      .primary()
      .query<{ app: string; st: string; db: string }>(
        "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st, current_database() AS db",
      );
    expect(rows[0]).toEqual({ app: 'crm-exporter', st: '1234ms', db: db.name });
    await expect(p.primary().query('SELECT pg_sleep(3)')).rejects.toMatchObject({ code: '57014' }); // canceled by statement_timeout
  });

  it('never opens more than one connection per database, however many queries are waiting', async () => {
    const p = make({ url: db.url });
    const pool = p.primary();
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, pool.totalCount)), 2);
    let serverPeak = 0;
    const queries = Array.from({ length: 5 }, () => pool.query('SELECT pg_sleep(0.1)'));
    for (let i = 0; i < 4; i++) {
      serverPeak = Math.max(serverPeak, await exporterSessions(db.name));
      await sleep(60);
    }
    await Promise.all(queries);
    clearInterval(watch);
    expect(peak).toBe(1);
    expect(serverPeak).toBe(1);
  });

  it('gives up waiting for the busy connection after the timeout', async () => {
    const p = make({ url: db.url, timeoutMs: 300 });
    const held = await p.primary().connect();
    try {
      const started = Date.now();
      await expect(p.primary().query('SELECT 1')).rejects.toThrow(/timeout/);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      held.release();
    }
  });

  it('creates pools for other databases lazily, reuses the primary for its own database and drops the rest on retain()', async () => {
    const p = make({ url: db.url });
    expect(p.databases()).toEqual([]);
    p.setPrimaryName(db.name);
    expect(p.forDatabase(db.name)).toBe(p.primary());
    const otherPool = p.forDatabase(other.name);
    expect(p.forDatabase(other.name)).toBe(otherPool);
    expect(p.databases()).toEqual([other.name]);
    const { rows } = await otherPool.query<{ db: string }>('SELECT current_database() AS db');
    expect(rows[0]?.db).toBe(other.name);
    expect(await exporterSessions(other.name)).toBe(1);
    await p.retain([]);
    expect(p.databases()).toEqual([]);
    await eventually(
      async () => ((await exporterSessions(other.name)) === 0 ? true : undefined),
      'no exporter session left',
      5_000,
    );
    expect(otherPool.ending).toBe(true);
  });

  it('survives an idle connection being killed: no crash, next query reconnects', async () => {
    // Nothing is logged here: a failing scrape is logged once by the orchestrator (test/e2e/dependency-faults).
    const p = make({ url: db.url });
    await p.primary().query('SELECT 1');
    expect(p.totalConnections).toBe(1);
    await direct.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [db.name, APPLICATION_NAME],
    );
    await eventually(async () => (p.totalConnections === 0 ? true : undefined), 'no pooled connection', 5_000);
    const { rows } = await p.primary().query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
  });

  it.each([
    ['postgres://user:hunter2@host:abc/db', /postgres\.url is not a valid connection URL/],
    ['postgres://user:hunter2@[::1/db', /postgres\.url is not a valid connection URL/],
    ['mysql://user:hunter2@host/db', /postgres\.url must be a postgres:\/\/ or postgresql:\/\/ URL/],
  ])('rejects %s without echoing it', (url, message) => {
    expect(postgresUrlProblem(url)).toBeDefined();
    expect(() => new PgPools({ url, timeoutMs: 1000 })).toThrow(message);
    expect(() => new PgPools({ url, timeoutMs: 1000 })).not.toThrow(/hunter2/);
  });

  it.each([
    'postgres://u@127.0.0.1:5432/db?sslmode=disable',
    'postgresql://u:p@db.example/crm',
    '/var/run/postgresql crm',
    'socket:/var/run/postgresql?db=crm',
  ])('accepts %s', (url) => {
    expect(postgresUrlProblem(url)).toBeUndefined();
  });

  it('reads the first line of a password file', async () => {
    const file = join(dir, 'pw-lines');
    writeFileSync(file, 'p@ss word\nsecond line\n');
    expect(await readPasswordFile(file)).toBe('p@ss word');
  });
});

describe('PgPools password_file (private instance with scram-sha-256)', () => {
  let instance: PrivateInstance;

  beforeAll(async () => {
    instance = await startPrivateInstance({ password: 'first-Secret' });
  }, 60_000);

  afterAll(async () => {
    await instance?.destroy();
  }, 60_000);

  it('uses the password from the file (over one in the URL), re-reads it for new connections, and never shows it in an error', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'first-Secret\n');
    const p = make({ url: instance.url('postgres', 'postgres', 'url-password-ignored'), passwordFile: file });
    const { rows } = await p.primary().query<{ u: string }>('SELECT current_user AS u');
    expect(rows[0]?.u).toBe('postgres');

    // Rotation: the server's password changes, then the file; the next new connection uses the new one.
    await p.primary().query("ALTER USER postgres PASSWORD 'second-Secret'");
    writeFileSync(file, 'second-Secret\n');
    await p
      .primary()
      .query('SELECT pg_terminate_backend(pg_backend_pid())')
      .catch(() => undefined);
    const again = await p.primary().query<{ one: number }>('SELECT 1 AS one');
    expect(again.rows[0]?.one).toBe(1);

    writeFileSync(file, 'wrong-Secret\n');
    const wrong = make({ url: instance.url('postgres'), passwordFile: file });
    const err = await wrong
      .primary()
      .query('SELECT 1')
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toMatch(/password authentication failed/);
    expect(err?.message).not.toContain('wrong-Secret');
  });

  it('fails with a clear error when the password file is missing', async () => {
    const p = make({ url: instance.url('postgres'), passwordFile: join(dir, 'does-not-exist') });
    await expect(p.primary().query('SELECT 1')).rejects.toThrow(/ENOENT/);
  });
});
