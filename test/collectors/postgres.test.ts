import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/exporter/config/load.js';
import type { PostgresConfig } from '../../src/exporter/config/schema.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { PostgresCollector } from '../../src/exporter/collectors/postgres/collector.js';
import { APPLICATION_NAME } from '../../src/exporter/sources/pg-pool.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import {
  connect,
  createTestDatabase,
  parseExposition,
  select,
  sleep,
  value,
  type Sample,
  type TestDatabase,
} from '../helpers/postgres.js';
import { eventually } from '../helpers/wait.js';

/*
 * The collector against the real (shared) PostgreSQL, in a database of its own. Values are compared with a direct
 * query of the same view run right after the scrape: exact for objects this file controls (its tables have
 * autovacuum off), monotone and close for counters its own sessions keep moving.
 */

let db: TestDatabase;
let direct: pg.Client;

function pgConfig(postgres: Record<string, unknown>): PostgresConfig {
  const config = parseConfig({ postgres }).postgres;
  if (!config) throw new Error('no postgres section');
  return config;
}

interface Harness {
  registry: Registry;
  collector: PostgresCollector;
  logs: string[];
  scrape(deadlineMs?: number): Promise<Sample[]>;
  text(): Promise<string>;
  close(): Promise<void>;
}

const harnesses: Harness[] = [];

function harness(overrides: Record<string, unknown> = {}): Harness {
  const registry = new Registry();
  const logs: string[] = [];
  const collector = new PostgresCollector({
    config: pgConfig({ url: db.url, databases: [db.name], ...overrides }),
    registry,
    log: (line) => logs.push(line),
  });
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: (line) => logs.push(line) });
  const h: Harness = {
    registry,
    collector,
    logs,
    async scrape(deadlineMs = 10_000) {
      await orchestrator.run(deadlineMs);
      return parseExposition(await registry.metrics());
    },
    text: () => registry.metrics(),
    close: () => orchestrator.close(),
  };
  harnesses.push(h);
  return h;
}

/** A second session in the test database (for locks, deadlocks and long transactions). */
async function session(): Promise<pg.Client> {
  return connect(db.url);
}

/** Makes a session's pending statistics visible to other backends right after its next statement. */
async function flushStats(client: pg.Client): Promise<void> {
  await client.query('SELECT pg_stat_force_next_flush()');
}

let main: Harness;

beforeAll(async () => {
  db = await createTestDatabase('main');
  direct = await connect(db.url);
  await direct.query(`
    CREATE TABLE unindexed (id int, payload text) WITH (autovacuum_enabled = false);
    INSERT INTO unindexed SELECT g, repeat('x', 50) FROM generate_series(1, 1000) g;
    CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL) WITH (autovacuum_enabled = false);
    INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g;
    CREATE TABLE notes (id int PRIMARY KEY, account_id int NOT NULL, body text) WITH (autovacuum_enabled = false);
    INSERT INTO notes SELECT g, 1 + g % 10, 'note ' || g FROM generate_series(1, 5000) g;
    CREATE INDEX notes_body_unused ON notes (body);
    CREATE TABLE big (id int, payload text) WITH (autovacuum_enabled = false);
    INSERT INTO big SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g;
    CREATE INDEX big_id ON big (id);
  `);
  await flushStats(direct);
  await direct.query('SELECT 1');
  main = harness();
});

afterAll(async () => {
  await Promise.allSettled(harnesses.map((h) => h.close()));
  await direct?.end().catch(() => undefined);
  await db?.drop();
});

describe('PostgreSQL collector (integration)', () => {
  it('reports server facts that agree with the server settings', async () => {
    const samples = await main.scrape();
    const { rows } = await direct.query<{ version: string; max: string; rec: boolean }>(
      "SELECT split_part(current_setting('server_version'), ' ', 1) AS version, current_setting('max_connections') AS max, pg_is_in_recovery() AS rec",
    );
    const facts = rows[0];
    expect(value(samples, 'crm_pg_up')).toBe(1);
    expect(value(samples, 'crm_pg_server_info', { version: facts?.version ?? '' })).toBe(1);
    expect(value(samples, 'crm_pg_max_connections')).toBe(Number(facts?.max));
    expect(value(samples, 'crm_pg_in_recovery')).toBe(facts?.rec ? 1 : 0);
    expect(select(samples, 'crm_pg_replication_lag_seconds')).toEqual([]); // a primary has no lag series
    expect(main.logs.filter((l) => !l.includes('pg_stat_statements'))).toEqual([]);
  });

  it('mirrors pg_stat_database and pg_database_size for the database', async () => {
    const samples = await main.scrape();
    const { rows } = await direct.query<Record<string, string>>(
      `SELECT xact_commit, xact_rollback, blks_hit, blks_read, deadlocks, temp_bytes, tup_returned, tup_fetched, tup_inserted,
              tup_updated, tup_deleted, pg_database_size(datid) AS size FROM pg_stat_database WHERE datname = $1`,
      [db.name],
    );
    const row = rows[0] as Record<string, string>;
    const labels = { database: db.name };
    const counters: Array<[string, string, number]> = [
      ['crm_pg_xact_commits_total', 'xact_commit', 100],
      ['crm_pg_xact_rollbacks_total', 'xact_rollback', 5],
      ['crm_pg_blocks_hit_total', 'blks_hit', 100_000],
      ['crm_pg_blocks_read_total', 'blks_read', 10_000],
      ['crm_pg_deadlocks_total', 'deadlocks', 0],
      ['crm_pg_temp_bytes_total', 'temp_bytes', 0],
    ];
    for (const [name, column, slack] of counters) {
      const got = value(samples, name, labels);
      expect(got, name).toBeDefined();
      // Taken a moment earlier by the collector: never ahead of the direct read, and close to it.
      expect(got, name).toBeLessThanOrEqual(Number(row[column]));
      expect(Number(row[column]) - (got as number), name).toBeLessThanOrEqual(slack);
    }
    for (const op of ['returned', 'fetched', 'inserted', 'updated', 'deleted']) {
      const got = value(samples, 'crm_pg_rows_total', { ...labels, op });
      expect(got, op).toBeDefined();
      expect(got, op).toBeLessThanOrEqual(Number(row[`tup_${op}`]));
    }
    expect(value(samples, 'crm_pg_rows_total', { ...labels, op: 'inserted' })).toBeGreaterThanOrEqual(26_010);
    const size = value(samples, 'crm_pg_database_size_bytes', labels) as number;
    expect(Math.abs(size - Number(row.size))).toBeLessThanOrEqual(512 * 1024);
    expect(size).toBeGreaterThan(4_000_000);
  });

  it('reads pg_database_size at most every database_size_interval (0: every scrape)', async () => {
    const cached = harness({ database_size_interval: '1h' });
    const fresh = harness({ database_size_interval: 0 });
    const sizeOf = async (h: Harness): Promise<number> =>
      value(await h.scrape(), 'crm_pg_database_size_bytes', { database: db.name }) as number;
    const cachedBefore = await sizeOf(cached);
    const freshBefore = await sizeOf(fresh);
    await direct.query(
      "CREATE TABLE size_interval WITH (autovacuum_enabled = off) AS SELECT g AS id, repeat('s', 200) AS pad FROM generate_series(1, 20000) g",
    );
    try {
      const { rows } = await direct.query<{ size: string }>('SELECT pg_database_size($1) AS size', [db.name]);
      expect(Math.abs((await sizeOf(fresh)) - Number(rows[0]?.size))).toBeLessThanOrEqual(512 * 1024); // autovacuum may add a map
      expect(Number(rows[0]?.size)).toBeGreaterThan(freshBefore + 2_000_000);
      expect(await sizeOf(cached)).toBe(cachedBefore);
    } finally {
      await direct.query('DROP TABLE size_interval');
    }
  });

  it('counts sessions by state, with the base states always present', async () => {
    const idle = await Promise.all([session(), session(), session()]);
    const inTx = await session();
    await inTx.query('BEGIN; SELECT 1');
    try {
      const samples = await main.scrape();
      const { rows } = await direct.query<{ state: string; n: string }>(
        "SELECT state, count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' GROUP BY state",
        [db.name],
      );
      const directCount = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
      for (const state of ['active', 'idle', 'idle_in_transaction', 'idle_in_transaction_aborted']) {
        expect(value(samples, 'crm_pg_connections', { database: db.name, state }), state).toBeDefined();
      }
      const idleSeen = value(samples, 'crm_pg_connections', { database: db.name, state: 'idle' }) as number;
      expect(idleSeen).toBeGreaterThanOrEqual(3);
      // The direct client was idle during the scrape and is active now; the exporter the reverse.
      expect(Math.abs(idleSeen - directCount('idle'))).toBeLessThanOrEqual(2);
      expect(value(samples, 'crm_pg_connections', { database: db.name, state: 'idle_in_transaction' })).toBe(
        directCount('idle in transaction'),
      );
      expect(value(samples, 'crm_pg_connections', { database: db.name, state: 'active' })).toBeGreaterThanOrEqual(1); // the exporter itself
    } finally {
      await inTx.query('ROLLBACK');
      await Promise.all([...idle, inTx].map((c) => c.end()));
    }
  });

  it('counts sequential scans on an unindexed table exactly', async () => {
    const labels = { database: db.name, schema: 'public', table: 'unindexed' };
    const first = await main.scrape();
    const before = value(first, 'crm_pg_table_seq_scans_total', labels) as number;
    const rowsBefore = value(first, 'crm_pg_table_seq_rows_read_total', labels) as number;
    const scans = 7;
    const s = await session();
    try {
      for (let i = 0; i < scans; i++) await s.query('SELECT count(*) FROM unindexed WHERE payload <> $1', [`z${i}`]);
      await flushStats(s);
      await s.query('SELECT 1');
    } finally {
      await s.end();
    }
    const samples = await eventually(async () => {
      const got = await main.scrape();
      return value(got, 'crm_pg_table_seq_scans_total', labels) === before + scans ? got : undefined;
    });
    expect(value(samples, 'crm_pg_table_seq_rows_read_total', labels)).toBe(rowsBefore + scans * 1000);
    const { rows } = await direct.query<{ seq_scan: string; seq_tup_read: string; idx_scan: string | null }>(
      "SELECT seq_scan, seq_tup_read, idx_scan FROM pg_stat_user_tables WHERE relname = 'unindexed'",
    );
    expect(value(samples, 'crm_pg_table_seq_scans_total', labels)).toBe(Number(rows[0]?.seq_scan));
    expect(value(samples, 'crm_pg_table_seq_rows_read_total', labels)).toBe(Number(rows[0]?.seq_tup_read));
    expect(rows[0]?.idx_scan).toBeNull();
    expect(value(samples, 'crm_pg_table_index_scans_total', labels)).toBe(0);
  });

  it('shows an unused index at 0 scans and counts the scans of a used one', async () => {
    const s = await session();
    try {
      await s.query('SET enable_seqscan = off');
      for (let i = 1; i <= 5; i++) await s.query('SELECT * FROM notes WHERE id = $1', [i]);
      await flushStats(s);
      await s.query('SELECT 1');
    } finally {
      await s.end();
    }
    const pkey = { database: db.name, schema: 'public', table: 'notes', index: 'notes_pkey' };
    const samples = await eventually(async () => {
      const got = await main.scrape();
      return (value(got, 'crm_pg_index_scans_total', pkey) ?? 0) >= 5 ? got : undefined;
    });
    const unused = { database: db.name, schema: 'public', table: 'notes', index: 'notes_body_unused' };
    expect(value(samples, 'crm_pg_index_scans_total', unused)).toBe(0);
    const { rows } = await direct.query<{ indexrelname: string; idx_scan: string; size: string }>(
      "SELECT indexrelname, idx_scan, pg_relation_size(indexrelid) AS size FROM pg_stat_user_indexes WHERE relname = 'notes'",
    );
    expect(rows.map((r) => r.indexrelname).sort()).toEqual(['notes_body_unused', 'notes_pkey']);
    for (const r of rows) {
      const labels = { database: db.name, schema: 'public', table: 'notes', index: r.indexrelname };
      expect(value(samples, 'crm_pg_index_scans_total', labels), r.indexrelname).toBe(Number(r.idx_scan));
      expect(value(samples, 'crm_pg_index_size_bytes', labels), r.indexrelname).toBe(Number(r.size));
    }
    const table = { database: db.name, schema: 'public', table: 'notes' };
    expect(value(samples, 'crm_pg_table_index_scans_total', table)).toBe(
      rows.reduce((sum, r) => sum + Number(r.idx_scan), 0),
    );
  });

  it('reports live and dead rows, sizes and last autovacuum of each table exactly', async () => {
    const s = await session();
    try {
      await s.query('DELETE FROM accounts WHERE id > 7');
      await flushStats(s);
      await s.query('SELECT 1');
    } finally {
      await s.end();
    }
    const labels = { database: db.name, schema: 'public', table: 'accounts' };
    const samples = await eventually(async () => {
      const got = await main.scrape();
      return value(got, 'crm_pg_table_dead_rows', labels) === 3 ? got : undefined;
    });
    const { rows } = await direct.query<{ relname: string; live: string; dead: string; size: string; vac: number }>(
      `SELECT relname, n_live_tup AS live, n_dead_tup AS dead, pg_table_size(relid) AS size,
              coalesce(extract(epoch FROM last_autovacuum), 0)::float8 AS vac FROM pg_stat_user_tables`,
    );
    expect(rows.map((r) => r.relname).sort()).toEqual(['accounts', 'big', 'notes', 'unindexed']);
    for (const r of rows) {
      const l = { database: db.name, schema: 'public', table: r.relname };
      expect(value(samples, 'crm_pg_table_live_rows', l), r.relname).toBe(Number(r.live));
      expect(value(samples, 'crm_pg_table_dead_rows', l), r.relname).toBe(Number(r.dead));
      expect(value(samples, 'crm_pg_table_size_bytes', l), r.relname).toBe(Number(r.size));
      expect(value(samples, 'crm_pg_table_last_autovacuum_timestamp_seconds', l), r.relname).toBe(r.vac);
    }
    expect(value(samples, 'crm_pg_table_live_rows', labels)).toBe(7);
  });

  it('keeps only the largest max_tables tables and max_indexes indexes', async () => {
    const capped = harness({ max_tables: 2, max_indexes: 1 });
    const samples = await capped.scrape();
    const { rows: tables } = await direct.query<{ relname: string }>(
      'SELECT relname FROM pg_stat_user_tables ORDER BY pg_table_size(relid) DESC, relname LIMIT 2',
    );
    const { rows: indexes } = await direct.query<{ indexrelname: string }>(
      'SELECT indexrelname FROM pg_stat_user_indexes ORDER BY pg_relation_size(indexrelid) DESC, indexrelname LIMIT 1',
    );
    for (const name of [
      'crm_pg_table_seq_scans_total',
      'crm_pg_table_live_rows',
      'crm_pg_table_size_bytes',
      'crm_pg_table_last_autovacuum_timestamp_seconds',
    ]) {
      expect(
        select(samples, name)
          .map((s) => s.labels.table)
          .sort(),
        name,
      ).toEqual(tables.map((t) => t.relname).sort());
    }
    expect(select(samples, 'crm_pg_index_scans_total').map((s) => s.labels.index)).toEqual(
      indexes.map((i) => i.indexrelname),
    );
    expect(select(samples, 'crm_pg_index_size_bytes')).toHaveLength(1);
  });

  it('issues one query per view per database and reports the count', async () => {
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    let texts: string[];
    let samples: Sample[];
    try {
      samples = await main.scrape();
      texts = spy.mock.calls.map((call) =>
        typeof call[0] === 'string' ? call[0] : String((call[0] as { text?: string }).text),
      );
    } finally {
      spy.mockRestore();
    }
    // Primary connection: server facts, pg_stat_database, pg_stat_activity + pg_locks; the database: tables, indexes.
    expect(texts).toHaveLength(5);
    expect(value(samples, 'crm_pg_scrape_queries')).toBe(5);
    expect(main.collector.served?.queries).toBe(5);
    for (const view of [
      'pg_stat_database',
      'pg_stat_activity',
      'pg_locks',
      'pg_stat_user_tables',
      'pg_stat_user_indexes',
    ]) {
      expect(
        texts.filter((t) => t.includes(`${view} `) || t.includes(`${view}\n`)),
        view,
      ).toHaveLength(1);
    }
  });

  it('drops the series of a table that no longer exists', async () => {
    await direct.query('CREATE TABLE short_lived (id int)');
    const before = await main.scrape();
    expect(value(before, 'crm_pg_table_size_bytes', { table: 'short_lived' })).toBe(0);
    await direct.query('DROP TABLE short_lived');
    const after = await main.scrape();
    expect(select(after, 'crm_pg_table_size_bytes', { table: 'short_lived' })).toEqual([]);
    expect(select(after, 'crm_pg_table_seq_scans_total', { table: 'short_lived' })).toEqual([]);
  });

  it('counts a deliberate deadlock', async () => {
    const labels = { database: db.name };
    const before = value(await main.scrape(), 'crm_pg_deadlocks_total', labels) as number;
    const a = await session();
    const b = await session();
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query('UPDATE accounts SET balance = balance - 1 WHERE id = 1');
      await b.query('UPDATE accounts SET balance = balance - 1 WHERE id = 2');
      const first = a.query('UPDATE accounts SET balance = balance + 1 WHERE id = 2'); // waits for b
      await sleep(100);
      const second = b.query('UPDATE accounts SET balance = balance + 1 WHERE id = 1'); // closes the cycle
      const results = await Promise.allSettled([first, second]);
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(failed).toHaveLength(1);
      expect((failed[0]?.reason as { code?: string }).code).toBe('40P01');
      await a.query('ROLLBACK');
      await b.query('ROLLBACK');
      await flushStats(a);
      await flushStats(b);
      await a.query('SELECT 1');
      await b.query('SELECT 1');
    } finally {
      await Promise.allSettled([a.end(), b.end()]);
    }
    const after = await eventually(async () => {
      const n = value(await main.scrape(), 'crm_pg_deadlocks_total', labels) as number;
      return n > before ? n : undefined;
    });
    expect(after).toBe(before + 1);
    const { rows } = await direct.query<{ deadlocks: string }>(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = $1',
      [db.name],
    );
    expect(after).toBe(Number(rows[0]?.deadlocks));
  });

  it('shows a blocked session and its ungranted lock', async () => {
    const holder = await session();
    const waiter = await session();
    try {
      await holder.query('BEGIN');
      await holder.query('UPDATE accounts SET balance = 0 WHERE id = 3');
      const waiting = waiter.query('UPDATE accounts SET balance = 1 WHERE id = 3');
      waiting.catch(() => undefined);
      const samples = await eventually(async () => {
        const got = await main.scrape();
        return (value(got, 'crm_pg_blocked_sessions', { database: db.name }) ?? 0) >= 1 ? got : undefined;
      });
      const ungranted = select(samples, 'crm_pg_locks', { database: db.name, granted: 'false' });
      expect(ungranted.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThanOrEqual(1);
      expect(ungranted.map((s) => s.labels.mode)).toContain('ShareLock'); // waiting for the holder's transaction id
      expect(
        value(samples, 'crm_pg_locks', { database: db.name, mode: 'RowExclusiveLock', granted: 'true' }),
      ).toBeGreaterThanOrEqual(2);
      const { rows } = await direct.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1 AND NOT l.granted`,
        [db.name],
      );
      expect(ungranted.reduce((sum, s) => sum + s.value, 0)).toBe(Number(rows[0]?.n));
      expect(value(samples, 'crm_pg_blocked_sessions', { database: db.name })).toBe(1);
      await holder.query('ROLLBACK');
      await waiting;
    } finally {
      await Promise.allSettled([holder.end(), waiter.end()]);
    }
    const clear = await main.scrape();
    expect(value(clear, 'crm_pg_blocked_sessions', { database: db.name })).toBe(0);
    expect(select(clear, 'crm_pg_locks', { database: db.name, granted: 'false' })).toEqual([]);
  });

  it('reports the age of the longest open transaction', async () => {
    const s = await session();
    try {
      await s.query('BEGIN');
      await s.query('SELECT txid_current()');
      await sleep(2_100);
      const samples = await main.scrape();
      const longest = value(samples, 'crm_pg_longest_transaction_seconds', { database: db.name }) as number;
      expect(longest).toBeGreaterThanOrEqual(2);
      expect(longest).toBeLessThan(30);
      await s.query('COMMIT');
    } finally {
      await s.end();
    }
    const after = value(await main.scrape(), 'crm_pg_longest_transaction_seconds', { database: db.name }) as number;
    expect(after).toBeLessThan(2);
  });

  it('mirrors a PostgreSQL statistics reset as a counter reset', async () => {
    const before = value(await main.scrape(), 'crm_pg_xact_commits_total', { database: db.name }) as number;
    expect(before).toBeGreaterThan(50);
    await direct.query('SELECT pg_stat_reset()');
    const after = value(await main.scrape(), 'crm_pg_xact_commits_total', { database: db.name }) as number;
    expect(after).toBeLessThan(before);
  });

  it('logs once that pg_stat_statements is absent and serves crm_pg_statements_enabled 0', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) expect(value(await h.scrape(), 'crm_pg_statements_enabled')).toBe(0);
    const notes = h.logs.filter((l) => l.includes('pg_stat_statements'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`not installed in database "${db.name}"|not in shared_preload_libraries`));
    expect(select(await h.scrape(), 'crm_pg_statement_calls_total')).toEqual([]);
    const off = harness({ statements: { enabled: false } });
    expect(value(await off.scrape(), 'crm_pg_statements_enabled')).toBe(0);
    expect(off.logs).toEqual([]);
  });

  it('uses the extension check, not a failing query, when pg_stat_statements is installed but not preloaded', async () => {
    const preload = await direct.query<{ spl: string }>("SELECT current_setting('shared_preload_libraries') AS spl");
    // The shared server runs without the library preloaded; the private instance covers the preloaded case.
    expect(
      preload.rows[0]?.spl,
      'this case needs the shared PostgreSQL without pg_stat_statements in shared_preload_libraries',
    ).not.toContain('pg_stat_statements');
    await direct.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    try {
      const h = harness();
      const samples = await h.scrape();
      expect(value(samples, 'crm_pg_up')).toBe(1);
      expect(value(samples, 'crm_pg_statements_enabled')).toBe(0);
      expect(h.logs).toEqual([expect.stringContaining('not in shared_preload_libraries')]);
      expect(value(samples, 'crm_pg_scrape_queries')).toBe(5);
    } finally {
      await direct.query('DROP EXTENSION pg_stat_statements');
    }
  });

  it('times out behind a lock without stale series, holds one connection per database, then recovers', async () => {
    const h = harness({ timeout: '1500ms' });
    expect(value(await h.scrape(), 'crm_pg_up')).toBe(1);
    const locker = await session();
    const serverCount = async () => {
      const { rows } = await direct.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
        [db.name, APPLICATION_NAME],
      );
      return Number(rows[0]?.n);
    };
    // Other harnesses of this file may keep an idle connection here; h has exactly one now.
    const baseline = await serverCount();
    let clientPeak = 0;
    const watch = setInterval(() => (clientPeak = Math.max(clientPeak, h.collector.pools.totalConnections)), 5);
    let serverPeak = 0;
    try {
      // A migration-like ACCESS EXCLUSIVE lock: pg_table_size() in the tables query waits for it.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE big IN ACCESS EXCLUSIVE MODE');
      for (let i = 0; i < 4; i++) {
        const started = Date.now();
        const samples = await h.scrape(600);
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(value(samples, 'crm_pg_up')).toBe(0);
        expect(value(samples, 'crm_scrape_collector_success', { collector: 'postgres' })).toBe(0);
        expect(samples.filter((s) => s.name.startsWith('crm_pg_') && s.name !== 'crm_pg_up')).toEqual([]);
        serverPeak = Math.max(serverPeak, await serverCount());
      }
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // Never a second connection however many scrapes timed out (a replaced one may take a moment to exit).
    expect(clientPeak).toBeLessThanOrEqual(1);
    expect(serverPeak).toBeLessThanOrEqual(baseline + 1);
    const recovered = await eventually(async () => {
      const got = await h.scrape(5_000);
      return value(got, 'crm_scrape_collector_success', { collector: 'postgres' }) === 1 ? got : undefined;
    });
    clearInterval(watch);
    expect(clientPeak).toBeLessThanOrEqual(1);
    expect(value(recovered, 'crm_pg_up')).toBe(1);
    expect(value(recovered, 'crm_pg_table_size_bytes', { table: 'big' })).toBeGreaterThan(0);
    expect(h.logs.join('\n')).toMatch(/collector postgres failed/);
  });

  it('passes promtool check metrics on the real output', async () => {
    const text = await main.text();
    expect(text).toContain('crm_pg_table_seq_scans_total');
    expect(promtoolCheckMetrics(text)).toBe('');
  });
});
