import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import {
  clearPostgresMetrics,
  stateLabel,
  writePostgresSnapshot,
  type PostgresSnapshot,
} from '../../src/exporter/collectors/postgres.js';
import { createPostgresMetrics, POSTGRES_METRIC_NAMES } from '../../src/exporter/collectors/postgres-metrics.js';
import { parseExtensionVersion, statementsSql } from '../../src/exporter/collectors/postgres-queries.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { parseExposition, select } from '../helpers/postgres.js';

/*
 * The write step fed with FIXED rows (no database): the exposition must match test/golden/postgres.prom byte for
 * byte and pass promtool. The fixture is a replica so the replication lag series is covered, and it carries the
 * awkward cases: hidden session states, a statement text with quotes, a backslash, a literal and runs of
 * whitespace, and a utility statement holding a password (left out of every series).
 */

function fixture(): PostgresSnapshot {
  return {
    server: {
      version: '15.20',
      versionNum: 150020,
      currentDatabase: 'postgres',
      inRecovery: true,
      replicationLagSeconds: 1.5,
      maxConnections: 100,
    },
    databases: [
      {
        database: 'crm',
        xactCommits: 123456,
        xactRollbacks: 12,
        blocksHit: 9876543,
        blocksRead: 4321,
        deadlocks: 2,
        tempBytes: 1048576,
        rows: { returned: 500000, fetched: 250000, inserted: 10000, updated: 2000, deleted: 300 },
        sizeBytes: 104857600,
      },
      {
        database: 'crm_audit',
        xactCommits: 50,
        xactRollbacks: 0,
        blocksHit: 1000,
        blocksRead: 10,
        deadlocks: 0,
        tempBytes: 0,
        rows: { returned: 10, fetched: 5, inserted: 5, updated: 0, deleted: 0 },
        sizeBytes: 8388608,
      },
    ],
    sessions: [
      { database: 'crm', state: 'active', sessions: 3, blocked: 1, longestTransactionSeconds: 12.25 },
      { database: 'crm', state: 'idle', sessions: 10, blocked: 0, longestTransactionSeconds: 0 },
      { database: 'crm', state: 'idle in transaction', sessions: 1, blocked: 0, longestTransactionSeconds: 42 },
      {
        database: 'crm',
        state: 'idle in transaction (aborted)',
        sessions: 1,
        blocked: 0,
        longestTransactionSeconds: 3,
      },
      { database: 'crm', state: 'unknown', sessions: 2, blocked: 0, longestTransactionSeconds: 0 },
      { database: 'crm_audit', state: 'fastpath function call', sessions: 1, blocked: 0, longestTransactionSeconds: 0 },
      { database: 'not_monitored', state: 'idle', sessions: 4, blocked: 0, longestTransactionSeconds: 99 },
    ],
    locks: [
      { database: 'crm', mode: 'AccessShareLock', granted: true, locks: 25 },
      { database: 'crm', mode: 'RowExclusiveLock', granted: true, locks: 4 },
      { database: 'crm', mode: 'ShareLock', granted: false, locks: 1 },
      { database: 'crm', mode: 'ExclusiveLock', granted: true, locks: 5 },
    ],
    tables: [
      {
        database: 'crm',
        schema: 'public',
        table: 'customers',
        seqScans: 120,
        seqRowsRead: 12000000,
        indexScans: 98000,
        liveRows: 100000,
        deadRows: 350,
        sizeBytes: 20971520,
        lastAutovacuum: 1735689600,
      },
      {
        database: 'crm',
        schema: 'public',
        table: 'notes',
        seqScans: 3,
        seqRowsRead: 150000,
        indexScans: 0,
        liveRows: 50000,
        deadRows: 0,
        sizeBytes: 6291456,
        lastAutovacuum: 0,
      },
    ],
    indexes: [
      {
        database: 'crm',
        schema: 'public',
        table: 'customers',
        index: 'customers_pkey',
        scans: 90000,
        sizeBytes: 2260992,
      },
      {
        database: 'crm',
        schema: 'public',
        table: 'customers',
        index: 'customers_email_key',
        scans: 8000,
        sizeBytes: 4202496,
      },
      { database: 'crm', schema: 'public', table: 'notes', index: 'notes_body_idx', scans: 0, sizeBytes: 3153920 },
    ],
    statements: {
      enabled: true,
      rows: [
        {
          database: 'crm',
          queryid: '-3749834501953480001',
          calls: 15000,
          seconds: 42.5,
          rows: 15000,
          query: 'SELECT id, name\n  FROM   customers\n WHERE email = $1',
        },
        {
          database: 'crm',
          queryid: '8812399214460001234',
          calls: 12,
          seconds: 3.75,
          rows: 12,
          query: `UPDATE "Notes\\"\tSET body = $1 WHERE body LIKE $2 ESCAPE '!' AND id IN (SELECT id FROM notes ORDER BY created_at DESC LIMIT $3)`,
        },
        {
          database: 'crm',
          queryid: '-8181142802221337144',
          calls: 1,
          seconds: 0.01,
          rows: 0,
          query: "ALTER ROLE crm PASSWORD 'hunter2'",
        },
      ],
    },
    queries: 8,
  };
}

async function render(snapshot: PostgresSnapshot, queryLength = 60): Promise<{ registry: Registry; text: string }> {
  const registry = new Registry();
  const metrics = createPostgresMetrics(registry);
  writePostgresSnapshot(metrics, snapshot, queryLength);
  return { registry, text: await registry.metrics() };
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

  it('serves every metric of POSTGRES_METRIC_NAMES, each documented in the PostgreSQL section of docs/metrics.md', async () => {
    const text = (await render(fixture())).text;
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(families.sort()).toEqual([...POSTGRES_METRIC_NAMES].sort());
    const docs = readFileSync(fileURLToPath(new URL('../../docs/metrics.md', import.meta.url)), 'utf8');
    const section = docs.slice(docs.indexOf('## PostgreSQL'), docs.indexOf('\n## ', docs.indexOf('## PostgreSQL') + 1));
    for (const name of POSTGRES_METRIC_NAMES) expect(section, name).toContain(`\`${name}\``);
    for (const name of section.matchAll(/`(crm_pg_[a-z_]+)`/g))
      expect(POSTGRES_METRIC_NAMES, name[1]).toContain(name[1]);
  });

  it('removes series that are no longer in the snapshot and clears everything on reset', async () => {
    const registry = new Registry();
    const metrics = createPostgresMetrics(registry);
    writePostgresSnapshot(metrics, fixture(), 60);
    const smaller = fixture();
    smaller.statements.rows = smaller.statements.rows.slice(0, 1);
    smaller.tables = smaller.tables.slice(0, 1);
    smaller.databases = smaller.databases.slice(0, 1);
    smaller.server = { ...smaller.server, inRecovery: false, replicationLagSeconds: null };
    writePostgresSnapshot(metrics, smaller, 60);
    const samples = parseExposition(await registry.metrics());
    expect(select(samples, 'crm_pg_statement_info')).toHaveLength(1);
    expect(select(samples, 'crm_pg_statement_seconds_total', { queryid: '8812399214460001234' })).toEqual([]);
    expect(select(samples, 'crm_pg_table_size_bytes').map((s) => s.labels.table)).toEqual(['customers']);
    expect(select(samples, 'crm_pg_xact_commits_total', { database: 'crm_audit' })).toEqual([]);
    expect(select(samples, 'crm_pg_connections', { database: 'crm_audit' })).toEqual([]);
    expect(select(samples, 'crm_pg_replication_lag_seconds')).toEqual([]);
    expect(select(samples, 'crm_pg_in_recovery')[0]?.value).toBe(0);

    clearPostgresMetrics(metrics);
    const cleared = parseExposition(await registry.metrics());
    expect(cleared).toEqual([{ name: 'crm_pg_up', labels: {}, value: 0 }]);
  });

  it('mirrors counters as absolute values, so a lower value reads as a counter reset', async () => {
    const registry = new Registry();
    const metrics = createPostgresMetrics(registry);
    writePostgresSnapshot(metrics, fixture(), 60);
    const reset = fixture();
    (reset.databases[0] as PostgresSnapshot['databases'][number]).xactCommits = 7;
    writePostgresSnapshot(metrics, reset, 60);
    expect(
      select(parseExposition(await registry.metrics()), 'crm_pg_xact_commits_total', { database: 'crm' })[0]?.value,
    ).toBe(7);
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
