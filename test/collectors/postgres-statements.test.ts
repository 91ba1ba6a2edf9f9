import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter } from '../../src/exporter/main.js';
import { isPlannableStatement, plannableStatementSql } from '../../src/exporter/parsers/statement-text.js';
import { PLANNABLE_CASES } from '../helpers/statement-cases.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { PostgresCollector } from '../../src/exporter/collectors/postgres/collector.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import {
  connect,
  createTestDatabase,
  parseExposition,
  select,
  startPrivateInstance,
  value,
  type PrivateInstance,
  type Sample,
  type TestDatabase,
} from '../helpers/postgres.js';

/*
 * pg_stat_statements needs shared_preload_libraries, which the shared server does not have: these tests run a
 * private instance with it preloaded. Auto-discovery runs here too, so the exporter never holds connections to
 * other people's databases on the shared server.
 */

let instance: PrivateInstance;
let admin: pg.Client;
const databases: TestDatabase[] = [];
const closers: Array<() => Promise<void>> = [];

function harness(postgres: Record<string, unknown>) {
  const config = parseConfig({ postgres: { url: instance.url('postgres'), ...postgres } }).postgres;
  if (!config) throw new Error('no postgres section');
  const registry = new Registry();
  const logs: string[] = [];
  const collector = new PostgresCollector({ config, registry, log: (line) => logs.push(line) });
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: (line) => logs.push(line) });
  closers.push(() => orchestrator.close());
  return {
    collector,
    logs,
    registry,
    async scrape(): Promise<Sample[]> {
      await orchestrator.run(10_000);
      return parseExposition(await registry.metrics());
    },
  };
}

async function database(prefix: string): Promise<TestDatabase & { client: pg.Client }> {
  const created = await createTestDatabase(prefix, instance.url('postgres'));
  databases.push(created);
  const client = await connect(created.url);
  closers.push(() => client.end());
  return { ...created, client };
}

beforeAll(async () => {
  instance = await startPrivateInstance({
    settings: {
      shared_preload_libraries: 'pg_stat_statements',
      'pg_stat_statements.track': 'top',
      'pg_stat_statements.max': '1000',
    },
  });
  admin = await connect(instance.url('postgres'));
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await admin?.end().catch(() => undefined);
  for (const d of databases) await d.drop().catch(() => undefined);
  await instance?.destroy();
}, 60_000);

describe('pg_stat_statements (private instance with the library preloaded)', () => {
  it('logs one line while the extension is not installed in the primary database', async () => {
    const h = harness({ databases: ['postgres'] });
    for (let i = 0; i < 3; i++) {
      const samples = await h.scrape();
      expect(value(samples, 'crm_pg_up')).toBe(1);
      expect(value(samples, 'crm_pg_statements_enabled')).toBe(0);
    }
    expect(h.logs).toEqual([
      'postgres: pg_stat_statements is not installed in database "postgres" (CREATE EXTENSION pg_stat_statements there); crm_pg_statements_enabled is 0',
    ]);
  });

  it('serves the top-N statements by total time, normalised and truncated, agreeing with the view', async () => {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const app = await database('stmt');
    await admin.query('SELECT pg_stat_statements_reset()');
    // Five structurally different statements (so five queryids) of clearly different total time.
    await app.client.query(`SELECT pg_sleep(0.30),\n\n   'whitespace-heavy\t\ttext' AS padding`);
    await app.client.query('SELECT pg_sleep(0.20), 1, 2, 3, 4, 5, 6, 7, 8, 9');
    await app.client.query('SELECT pg_sleep(0.15), now()');
    await app.client.query('SELECT pg_sleep(0.05)::text');
    for (let i = 0; i < 3; i++) await app.client.query('SELECT $1::int + 1', [i]);
    const h = harness({ databases: [app.name], statements: { limit: 3, query_length: 40 } });
    const samples = await h.scrape();
    expect(value(samples, 'crm_pg_statements_enabled')).toBe(1);
    expect(value(samples, 'crm_pg_scrape_queries')).toBe(6); // server, databases, activity+locks, statements, tables, indexes

    const { rows } = await admin.query<{
      queryid: string;
      calls: string;
      seconds: number;
      rows: string;
      query: string;
    }>(
      `SELECT queryid::text, calls, (total_exec_time + total_plan_time) / 1000 AS seconds, rows, query
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 AND toplevel ORDER BY seconds DESC LIMIT 3`,
      [app.name],
    );
    for (const name of [
      'crm_pg_statement_calls_total',
      'crm_pg_statement_seconds_total',
      'crm_pg_statement_rows_total',
      'crm_pg_statement_info',
    ]) {
      expect(
        select(samples, name)
          .map((s) => s.labels.queryid)
          .sort(),
        name,
      ).toEqual(rows.map((r) => r.queryid).sort());
    }
    for (const r of rows) {
      const labels = { database: app.name, queryid: r.queryid };
      expect(value(samples, 'crm_pg_statement_calls_total', labels)).toBe(Number(r.calls));
      expect(value(samples, 'crm_pg_statement_rows_total', labels)).toBe(Number(r.rows));
      expect(value(samples, 'crm_pg_statement_seconds_total', labels)).toBeCloseTo(r.seconds, 6);
    }
    const infos = select(samples, 'crm_pg_statement_info', { database: app.name });
    const slowest = infos.find((s) => s.labels.queryid === rows[0]?.queryid);
    expect(slowest?.labels.query).toBe('SELECT pg_sleep($1), $2 AS padding');
    const long = infos.find((s) => s.labels.queryid === rows[1]?.queryid);
    expect(long?.labels.query).toBe('SELECT pg_sleep($1), $2, $3, $4, $5, $6, $7, $8, $9, $10'.slice(0, 40));
    for (const info of infos) {
      expect(info.value).toBe(1);
      expect(Array.from(info.labels.query ?? '').length).toBeLessThanOrEqual(40);
      expect(info.labels.query).not.toMatch(/\s{2}|[\n\t]/);
    }
    // SQL text appears in the info series only.
    const text = await h.registry.metrics();
    expect(
      text
        .split('\n')
        .filter((l) => l.includes('pg_sleep'))
        .every((l) => l.startsWith('crm_pg_statement_info{')),
    ).toBe(true);
    expect(promtoolCheckMetrics(text)).toBe('');

    // A new, slower statement enters the top 3; the one it displaces disappears from every statement metric.
    await app.client.query('SELECT pg_sleep(0.40), current_user AS newcomer');
    const after = await h.scrape();
    const displaced = rows[2]?.queryid as string;
    for (const name of [
      'crm_pg_statement_calls_total',
      'crm_pg_statement_seconds_total',
      'crm_pg_statement_rows_total',
      'crm_pg_statement_info',
    ]) {
      expect(select(after, name), name).toHaveLength(3);
      expect(select(after, name, { queryid: displaced }), name).toEqual([]);
    }
    expect(select(after, 'crm_pg_statement_info').some((s) => s.labels.query?.includes('current_user'))).toBe(true);
  });

  it('bounds the statement series by the limit across all monitored databases', async () => {
    const one = await database('one');
    const two = await database('two');
    for (const d of [one, two]) {
      for (let i = 0; i < 4; i++) await d.client.query(`SELECT pg_sleep(0.01)${', 1'.repeat(i)}`);
    }
    const h = harness({ databases: [one.name, two.name], statements: { limit: 5 } });
    const samples = await h.scrape();
    const series = select(samples, 'crm_pg_statement_calls_total');
    expect(series).toHaveLength(5);
    expect(new Set(series.map((s) => s.labels.database))).toEqual(new Set([one.name, two.name]));
    expect(select(samples, 'crm_pg_statement_info')).toHaveLength(5);
  });
});

describe('auto-discovery (private instance)', () => {
  it('monitors the largest connectable databases up to max_databases and drops the ones that disappear', async () => {
    const small = await database('small');
    const large = await database('large');
    await large.client.query(
      "CREATE TABLE filler AS SELECT g AS id, repeat('z', 500) AS pad FROM generate_series(1, 20000) g",
    );
    await admin.query(`CREATE DATABASE crm_pgtest_noconn TEMPLATE template0`);
    await admin.query(`ALTER DATABASE crm_pgtest_noconn ALLOW_CONNECTIONS false`);
    try {
      const { rows: expected } = await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY pg_database_size(oid) DESC, datname LIMIT 2',
      );
      const capped = harness({ databases: 'auto', max_databases: 2 });
      const samples = await capped.scrape();
      const seen = select(samples, 'crm_pg_database_size_bytes').map((s) => s.labels.database);
      expect(seen).toEqual(expected.map((r) => r.datname));
      expect(seen[0]).toBe(large.name);
      // Only the monitored databases have a pool (the primary "postgres" database reuses the primary one).
      expect(capped.collector.pools.databases().every((name) => seen.includes(name))).toBe(true);

      const all = harness({ databases: 'auto', max_databases: 100 });
      const everything = await all.scrape();
      const names = select(everything, 'crm_pg_database_size_bytes').map((s) => s.labels.database);
      expect(names).toContain(small.name);
      expect(names).not.toContain('template0');
      expect(names).not.toContain('template1');
      expect(names).not.toContain('crm_pgtest_noconn');
      expect(select(everything, 'crm_pg_table_size_bytes', { database: large.name, table: 'filler' })).toHaveLength(1);
      expect(all.collector.pools.databases()).toContain(small.name);

      // The exporter's idle connection does not stop a forced drop; the next scrape forgets the database.
      await small.drop();
      const after = await all.scrape();
      expect(value(after, 'crm_scrape_collector_success', { collector: 'postgres' })).toBe(1);
      expect(select(after, 'crm_pg_database_size_bytes', { database: small.name })).toEqual([]);
      expect(select(after, 'crm_pg_connections', { database: small.name })).toEqual([]);
      expect(all.collector.pools.databases()).not.toContain(small.name);
      expect(all.logs.filter((l) => !l.includes('pg_stat_statements') && !l.includes('idle connection'))).toEqual([]);
    } finally {
      await admin.query('DROP DATABASE IF EXISTS crm_pgtest_noconn');
    }
  });

  it('logs a configured database that does not exist once and monitors the others', async () => {
    const present = await database('present');
    const h = harness({ databases: [present.name, 'crm_pgtest_missing'] });
    for (let i = 0; i < 3; i++) {
      const samples = await h.scrape();
      expect(value(samples, 'crm_pg_up')).toBe(1);
      expect(select(samples, 'crm_pg_database_size_bytes').map((s) => s.labels.database)).toEqual([present.name]);
    }
    expect(h.logs.filter((l) => l.includes('crm_pgtest_missing'))).toEqual([
      'postgres: configured database "crm_pgtest_missing" does not exist or does not accept connections; skipped',
    ]);
  });
});

describe('secrets in statement texts (private instance, PostgreSQL 15 keeps utility statements verbatim)', () => {
  it('never serves a role password given in CREATE/ALTER ROLE, on /metrics or in a log line', async () => {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const app = await database('secret');
    const role = `crm_pgtest_role_${randomBytes(4).toString('hex')}`;
    // Characters a label would escape (\\ " newline) are left out so a plain substring search is exact.
    const secrets = ['create', 'alter', 'dollar', 'select', 'do'].map(
      (what) => `S3cr3t-${what}-${randomBytes(6).toString('hex')}`,
    );
    const [create, alter, dollar, selectInto, doBlock] = secrets as [string, string, string, string, string];
    closers.push(async () => {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    });
    await app.client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${create}'`);
    await app.client.query(`ALTER ROLE ${role} PASSWORD '${alter}'`);
    await app.client.query(`ALTER ROLE ${role} WITH ENCRYPTED PASSWORD $pw$${dollar}$pw$`);
    await app.client.query(`SELECT '${selectInto}'::text AS token INTO TEMP crm_secret_copy`);
    await app.client.query(`DO $$ BEGIN PERFORM set_config('crm.token', '${doBlock}', false); END $$`);
    await app.client.query('SELECT count(*) FROM pg_class WHERE relname = $1', ['pg_class']);

    // The premise: pg_stat_statements holds every one of these secrets verbatim, with a queryid.
    const { rows: leaking } = await admin.query<{ queryid: string; query: string }>(
      `SELECT queryid::text, query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 AND query ~ 'S3cr3t-'`,
      [app.name],
    );
    for (const secret of secrets)
      expect(
        leaking.some((r) => r.query.includes(secret)),
        secret,
      ).toBe(true);
    const hashed = await admin.query<{ same: boolean }>(
      'SELECT hashtextextended(query, 0) = queryid AS same FROM pg_stat_statements WHERE queryid = ANY ($1::bigint[])',
      [leaking.filter((r) => r.query.startsWith('CREATE ROLE')).map((r) => r.queryid)],
    );
    expect(hashed.rows.map((r) => r.same)).toEqual([true]); // the queryid is a hash of the text, password included

    const logs: string[] = [];
    const config = parseConfig({
      listen: '127.0.0.1:0',
      positions_file: `${instance.dir}/positions-${app.name}.json`,
      postgres: {
        url: instance.url('postgres'),
        databases: [app.name],
        statements: { limit: 1000, query_length: 10_000 },
      },
    });
    const exporter = await startExporter(config, { log: (line) => logs.push(line) });
    closers.push(() => exporter.close());
    const texts: string[] = [];
    for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
      const res = await fetch(`${exporter.url}/metrics`, { headers: { accept } });
      expect(res.status).toBe(200);
      texts.push(await res.text());
    }
    const samples = parseExposition(texts[0] as string);
    expect(value(samples, 'crm_pg_statements_enabled')).toBe(1);
    // The ordinary statement is there, so the statement series are served at all.
    expect(
      select(samples, 'crm_pg_statement_info', { database: app.name }).some((s) =>
        s.labels.query?.startsWith('SELECT count(*) FROM pg_class'),
      ),
    ).toBe(true);
    for (const text of [...texts, ...logs]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/PASSWORD/i);
    }
    // On PostgreSQL 13-15 a utility statement's queryid is a hash of its text, password included: not served either.
    for (const r of leaking)
      expect(select(samples, 'crm_pg_statement_calls_total', { queryid: r.queryid }), r.query).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('decides on the server which statements may be exported exactly as isPlannableStatement() does', async () => {
    const texts = PLANNABLE_CASES.map(([text]) => text);
    const { rows } = await admin.query<{ ok: boolean }>(
      `SELECT ${plannableStatementSql('t')} AS ok FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n`,
      [texts],
    );
    expect(rows.map((r, i) => [texts[i], r.ok])).toEqual(texts.map((text) => [text, isPlannableStatement(text)]));
  });
});
