import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { mapActivityRow, stateLabel } from '../../src/exporter/collectors/postgres/activity.js';
import { registerPostgresFamilies } from '../../src/exporter/collectors/postgres/collector.js';
import { mapDatabaseRow, type DatabaseRow } from '../../src/exporter/collectors/postgres/database.js';
import type { PostgresSnapshot } from '../../src/exporter/collectors/postgres/gather.js';
import { mapIndexRows } from '../../src/exporter/collectors/postgres/indexes.js';
import { mapServerRow } from '../../src/exporter/collectors/postgres/server.js';
import {
  mapStatementRow,
  parseExtensionVersion,
  statementsSql,
  type StatementRow,
} from '../../src/exporter/collectors/postgres/statements.js';
import { mapTableRows } from '../../src/exporter/collectors/postgres/tables.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';
import { documentedIn, familiesOf } from '../helpers/metrics-doc.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { parseExposition, select } from '../helpers/postgres.js';

/*
 * The row mapping and the families fed with FIXED rows (no database): the exposition must match
 * test/golden/postgres.prom byte for byte and pass promtool, as the server renders it and as prom-client does. The fixture is a replica so the replication lag series is covered, and it carries the
 * awkward cases: hidden session states, a statement text with quotes, a backslash, a literal and runs of
 * whitespace, and a utility statement holding a password (left out of every series).
 */

/** The rows as pg hands them over (bigint and numeric columns as strings), mapped by each view's own function. */
function fixture(): PostgresSnapshot {
  const {
    pgss_version: _v,
    pgss_schema: _s,
    pgss_loaded: _l,
    ...server
  } = mapServerRow({
    version: '15.20',
    version_num: 150020,
    current_database: 'postgres',
    in_recovery: true,
    replication_lag_seconds: 1.5,
    max_connections: 100,
    pgss_version: '1.10',
    pgss_schema: 'public',
    pgss_loaded: true,
  });
  const database = (name: string, values: number[], size: number) => {
    const columns = ['xact_commit', 'xact_rollback', 'blks_hit', 'blks_read', 'deadlocks', 'temp_bytes'];
    const ops = ['tup_returned', 'tup_fetched', 'tup_inserted', 'tup_updated', 'tup_deleted'];
    const row = Object.fromEntries([...columns, ...ops].map((c, i) => [c, String(values[i])]));
    return mapDatabaseRow({ database: name, ...row, size_bytes: String(size) }) as DatabaseRow;
  };
  const session = (
    database: string,
    state: string | null,
    sessions: number,
    blocked: number,
    longest_xact: number,
  ) => ({
    database,
    state,
    sessions,
    blocked,
    longest_xact,
  });
  const activity = mapActivityRow({
    sessions: [
      session('crm', 'active', 3, 1, 12.25),
      session('crm', 'idle', 10, 0, 0),
      session('crm', 'idle in transaction', 1, 0, 42),
      session('crm', 'idle in transaction (aborted)', 1, 0, 3),
      session('crm', null, 2, 0, 0), // a hidden state: "unknown"
      session('crm_audit', 'fastpath function call', 1, 0, 0),
      session('not_monitored', 'idle', 4, 0, 99),
    ],
    locks: [
      { database: 'crm', mode: 'AccessShareLock', granted: true, locks: 25 },
      { database: 'crm', mode: 'RowExclusiveLock', granted: true, locks: 4 },
      { database: 'crm', mode: 'ShareLock', granted: false, locks: 1 },
      { database: 'crm', mode: 'ExclusiveLock', granted: true, locks: 5 },
    ],
  });
  const table = (name: string, v: number[], last_autovacuum: number) => ({
    schema: 'public',
    table: name,
    seq_scan: String(v[0]),
    seq_tup_read: String(v[1]),
    idx_scan: String(v[2]),
    n_live_tup: String(v[3]),
    n_dead_tup: String(v[4]),
    size_bytes: String(v[5]),
    last_autovacuum,
    database_size: null,
  });
  const index = (t: string, name: string, idx_scan: number, size_bytes: number) => ({
    schema: 'public',
    table: t,
    index: name,
    idx_scan: String(idx_scan),
    size_bytes: String(size_bytes),
  });
  const statement = (queryid: string, calls: number, seconds: number, rows: number, query: string) =>
    mapStatementRow({ database: 'crm', queryid, calls: String(calls), seconds, rows: String(rows), query }, 60);
  return {
    server,
    databases: [
      database('crm', [123456, 12, 9876543, 4321, 2, 1048576, 500000, 250000, 10000, 2000, 300], 104857600),
      database('crm_audit', [50, 0, 1000, 10, 0, 0, 10, 5, 5, 0, 0], 8388608),
    ],
    ...activity,
    tables: mapTableRows('crm', [
      table('customers', [120, 12000000, 98000, 100000, 350, 20971520], 1735689600),
      table('notes', [3, 150000, 0, 50000, 0, 6291456], 0),
    ]).tables,
    indexes: mapIndexRows('crm', [
      index('customers', 'customers_pkey', 90000, 2260992),
      index('customers', 'customers_email_key', 8000, 4202496),
      index('notes', 'notes_body_idx', 0, 3153920),
    ]),
    statements: {
      enabled: true,
      rows: [
        statement('-3749834501953480001', 15000, 42.5, 15000, 'SELECT id, name\n  FROM   customers\n WHERE email = $1'),
        statement(
          '8812399214460001234',
          12,
          3.75,
          12,
          `UPDATE "Notes\\"\tSET body = $1 WHERE body LIKE $2 ESCAPE '!' AND id IN (SELECT id FROM notes ORDER BY created_at DESC LIMIT $3)`,
        ),
        statement('-8181142802221337144', 1, 0.01, 0, "ALTER ROLE crm PASSWORD 'hunter2'"),
      ].filter((r): r is StatementRow => r !== undefined),
    },
    queries: 8,
  };
}

/** The collector's families in a fresh registry, serving `served()` at each scrape. */
function serving(served: () => PostgresSnapshot | undefined): Registry {
  const registry = new Registry();
  registerPostgresFamilies(registry, served);
  return registry;
}

async function render(snapshot: PostgresSnapshot): Promise<{ registry: Registry; text: string }> {
  const registry = serving(() => snapshot);
  return { registry, text: await renderPrometheusText(registry) };
}

describe('PostgreSQL golden exposition', () => {
  it('matches test/golden/postgres.prom', async () => {
    await expect((await render(fixture())).text).toMatchFileSnapshot('../golden/postgres.prom');
  });

  it('passes promtool check metrics with zero findings', async () => {
    expect(promtoolCheckMetrics((await render(fixture())).text)).toBe('');
  });

  it('leaves a utility statement out of every statement series (its text and its queryid carry the password)', async () => {
    const text = (await render(fixture())).text;
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('-8181142802221337144');
    expect(select(parseExposition(text), 'crm_pg_statement_calls_total')).toHaveLength(2);
  });

  it('serves exactly the metrics of the PostgreSQL section of docs/metrics.md', async () => {
    // The fixture is a replica with statements enabled, so every family has samples (the lag series included).
    const text = (await render(fixture())).text;
    expect(familiesOf(text)).toEqual(documentedIn('PostgreSQL'));
    for (const name of familiesOf(text)) expect(text, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
  });

  it('serves the last snapshot only: series no longer in it (a dropped table) disappear, and none without one', async () => {
    let served: PostgresSnapshot | undefined = fixture();
    const registry = serving(() => served);
    expect(select(parseExposition(await renderPrometheusText(registry)), 'crm_pg_table_size_bytes')).toHaveLength(2);
    const smaller = fixture();
    smaller.statements.rows = smaller.statements.rows.slice(0, 1);
    smaller.tables = smaller.tables.slice(0, 1);
    smaller.databases = smaller.databases.slice(0, 1);
    smaller.server = { ...smaller.server, in_recovery: false, replication_lag_seconds: null };
    served = smaller;
    const samples = parseExposition(await renderPrometheusText(registry));
    expect(select(samples, 'crm_pg_statement_info')).toHaveLength(1);
    expect(select(samples, 'crm_pg_statement_seconds_total', { queryid: '8812399214460001234' })).toEqual([]);
    expect(select(samples, 'crm_pg_table_size_bytes').map((s) => s.labels.table)).toEqual(['customers']);
    expect(select(samples, 'crm_pg_xact_commits_total', { database: 'crm_audit' })).toEqual([]);
    expect(select(samples, 'crm_pg_connections', { database: 'crm_audit' })).toEqual([]);
    expect(select(samples, 'crm_pg_replication_lag_seconds')).toEqual([]);
    expect(select(samples, 'crm_pg_in_recovery')[0]?.value).toBe(0);
    expect(select(samples, 'crm_pg_up')[0]?.value).toBe(1);

    served = undefined; // what the orchestrator sets after a failed or timed-out update
    expect(parseExposition(await renderPrometheusText(registry))).toEqual([
      { name: 'crm_pg_up', labels: {}, value: 0 },
    ]);
    expect(parseExposition(await registry.metrics())).toEqual([{ name: 'crm_pg_up', labels: {}, value: 0 }]);
  });

  it('serves counters as the absolute values read, so a lower value reads as a counter reset', async () => {
    const reset = fixture();
    (reset.databases[0] as DatabaseRow).xact_commit = 7;
    const text = (await render(reset)).text;
    expect(select(parseExposition(text), 'crm_pg_xact_commits_total', { database: 'crm' })[0]?.value).toBe(7);
  });

  it('renders the same exposition through prom-client (registry.metrics()) as through the server', async () => {
    const { registry, text } = await render(fixture());
    expect(await registry.metrics()).toBe(text);
  });

  it.each([
    ['active', 'active'],
    ['idle in transaction', 'idle_in_transaction'],
    ['idle in transaction (aborted)', 'idle_in_transaction_aborted'],
    ['fastpath function call', 'fastpath_function_call'],
  ])('stateLabel(%j) = %j', (state, label) => {
    expect(stateLabel(state)).toBe(label);
  });
});

describe('pg_stat_statements SQL by extension version', () => {
  it.each([
    ['1.7', 'p.total_time', false],
    ['1.8', 'p.total_exec_time + p.total_plan_time', false],
    ['1.9', 'p.total_exec_time + p.total_plan_time', true],
    ['1.10', 'p.total_exec_time + p.total_plan_time', true],
    ['1.11', 'p.total_exec_time + p.total_plan_time', true],
  ])('extension %s sums %s (toplevel filter: %s)', (version, time, toplevel) => {
    const sql = statementsSql(version, 'public');
    expect(sql).toContain(`sum(${time})`);
    expect(sql.includes('p.toplevel')).toBe(toplevel);
    expect(sql).toContain('FROM public.pg_stat_statements p');
    expect(sql).toMatch(/LIMIT \$2/);
  });

  it('parses extension versions', () => {
    expect(parseExtensionVersion('1.10')).toEqual([1, 10]);
    expect(parseExtensionVersion('2.0beta')).toEqual([2, 0]);
    expect(parseExtensionVersion('garbage')).toEqual([0, 0]);
  });
});
