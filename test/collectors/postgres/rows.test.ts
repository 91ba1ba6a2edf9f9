import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { connectionSeries, mapActivityRow } from '../../../src/exporter/collectors/postgres/activity.js';
import { DATABASES_SQL, mapDatabaseRow } from '../../../src/exporter/collectors/postgres/database.js';
import { INDEXES_SQL, mapIndexRows } from '../../../src/exporter/collectors/postgres/indexes.js';
import { stat, statOrNull } from '../../../src/exporter/collectors/postgres/row.js';
import { mapServerRow } from '../../../src/exporter/collectors/postgres/server.js';
import { mapStatementRow } from '../../../src/exporter/collectors/postgres/statements.js';
import { mapTableRows, TABLE_FAMILIES, TABLES_SQL } from '../../../src/exporter/collectors/postgres/tables.js';
import { registerSnapshotFamilies } from '../../../src/exporter/collectors/collector.js';
import { renderPrometheusText } from '../../../src/exporter/server/text-format.js';

/*
 * Each view's row mapping, without a server: rows as pg hands them over (bigint and numeric as strings, NULL as
 * null), odd values included. The rule (collectors/postgres/row.ts): a NULL identity (a label value) skips the row;
 * a NULL statistic reads as 0; a value that is not a finite number reads as 0.
 */

describe('statistics values', () => {
  it.each([
    [null, 0],
    [undefined, 0],
    ['9007199254740993', 9007199254740992], // a bigint beyond 2^53 loses its last digit, as any float64 does
    ['12.5', 12.5],
    [7, 7],
    ['NaN', 0],
    ['Infinity', 0],
    ['abc', 0],
    ['', 0], // Number('') is 0 as well
  ])('stat(%j) = %j', (value, expected) => {
    expect(stat(value)).toBe(expected);
  });

  it('statOrNull keeps NULL apart from 0', () => {
    expect(statOrNull(null)).toBeNull();
    expect(statOrNull('0')).toBe(0);
  });
});

describe('pg_stat_user_tables rows (tables.ts)', () => {
  const row = {
    database_size: '8000',
    schema: 'public',
    table: 'customers',
    seq_scan: '120',
    seq_tup_read: '12000000',
    idx_scan: '98000',
    n_live_tup: '100000',
    n_dead_tup: '350',
    size_bytes: '20971520',
    last_autovacuum: 1735689600.25,
  };

  it('maps every column to the field of the same name, and each field to its family', async () => {
    const { databaseSize, tables } = mapTableRows('crm', [row]);
    expect(databaseSize).toBe(8000);
    expect(tables).toEqual([
      {
        database: 'crm',
        schema: 'public',
        table: 'customers',
        seq_scan: 120,
        seq_tup_read: 12000000,
        idx_scan: 98000,
        n_live_tup: 100000,
        n_dead_tup: 350,
        size_bytes: 20971520,
        last_autovacuum: 1735689600.25,
      },
    ]);
    // every column the mapping reads is one the SQL selects
    for (const column of ['seq_scan', 'seq_tup_read', 'idx_scan', 'n_live_tup', 'n_dead_tup'])
      expect(TABLES_SQL).toContain(`t.${column}`);
    const registry = new Registry();
    registerSnapshotFamilies(registry, undefined, TABLE_FAMILIES, () => tables);
    const text = await renderPrometheusText(registry);
    expect(text).toContain('crm_pg_table_seq_scans_total{database="crm",schema="public",table="customers"} 120\n');
    expect(text).toContain(
      'crm_pg_table_last_autovacuum_timestamp_seconds{database="crm",schema="public",table="customers"} 1735689600.25\n',
    );
  });

  it('skips a row whose schema or table is NULL (the size-only row of a database without tables, or a broken row)', () => {
    expect(mapTableRows('empty', [{ database_size: '7000', schema: null, table: null }])).toEqual({
      databaseSize: 7000,
      tables: [],
    });
    const { tables } = mapTableRows('crm', [{ ...row, schema: null }, { ...row, table: null }, row]);
    expect(tables.map((t) => t.table)).toEqual(['customers']);
    expect(tables.some((t) => t.schema === '')).toBe(false); // never an empty label value
  });

  it('reads NULL or odd statistics as 0, and no size when the query did not read it', () => {
    const { databaseSize, tables } = mapTableRows('crm', [
      { ...row, database_size: null, seq_scan: null, idx_scan: 'garbage', last_autovacuum: null },
    ]);
    expect(databaseSize).toBeNull();
    expect(tables[0]).toMatchObject({ seq_scan: 0, idx_scan: 0, last_autovacuum: 0, n_dead_tup: 350 });
  });
});

describe('pg_stat_user_indexes rows (indexes.ts)', () => {
  it('maps a row, and skips one with a NULL schema, table or index name', () => {
    const r = { schema: 'public', table: 'notes', index: 'notes_pkey', idx_scan: '5', size_bytes: '8192' };
    expect(mapIndexRows('crm', [r, { ...r, index: null }, { ...r, schema: null }, { ...r, table: null }])).toEqual([
      { database: 'crm', schema: 'public', table: 'notes', index: 'notes_pkey', idx_scan: 5, size_bytes: 8192 },
    ]);
    expect(mapIndexRows('crm', [{ ...r, idx_scan: null }])[0]?.idx_scan).toBe(0);
    expect(INDEXES_SQL).toContain('i.idx_scan');
  });
});

describe('pg_stat_database rows (database.ts)', () => {
  it('maps the columns, keeps a NULL size as unknown, and skips a row without a database name', () => {
    const r = { database: 'crm', xact_commit: '10', blks_hit: null, tup_deleted: '3', size_bytes: null };
    expect(mapDatabaseRow(r)).toMatchObject({ database: 'crm', xact_commit: 10, blks_hit: 0, tup_deleted: 3 });
    expect(mapDatabaseRow(r)?.size_bytes).toBeNull();
    expect(mapDatabaseRow({ ...r, size_bytes: '1024' })?.size_bytes).toBe(1024);
    expect(mapDatabaseRow({ ...r, database: null })).toBeUndefined();
    for (const column of ['xact_commit', 'xact_rollback', 'blks_hit', 'blks_read', 'deadlocks', 'temp_bytes'])
      expect(DATABASES_SQL).toContain(`s.${column}`);
  });
});

describe('pg_stat_activity and pg_locks rows (activity.ts)', () => {
  it('maps the groups: a NULL state is "unknown", a group without database or lock mode is skipped', () => {
    const mapped = mapActivityRow({
      sessions: [
        { database: 'crm', state: null, sessions: 2, blocked: 0, longest_xact: null },
        { database: null, state: 'idle', sessions: 9, blocked: 0, longest_xact: 0 },
      ],
      locks: [
        { database: 'crm', mode: 'ShareLock', granted: false, locks: 1 },
        { database: 'crm', mode: null, granted: true, locks: 4 },
      ],
    });
    expect(mapped).toEqual({
      sessions: [{ database: 'crm', state: 'unknown', sessions: 2, blocked: 0, longest_xact: 0 }],
      locks: [{ database: 'crm', mode: 'ShareLock', granted: false, locks: 1 }],
    });
  });

  it('reads a missing row or non-array columns as no activity', () => {
    expect(mapActivityRow(undefined)).toEqual({ sessions: [], locks: [] });
    expect(mapActivityRow({ sessions: null, locks: 'x' })).toEqual({ sessions: [], locks: [] });
  });

  it('gives every monitored database its four usual states, sums groups that share a label, ignores others', () => {
    const series = [
      ...connectionSeries({
        databases: ['crm'],
        sessions: [
          { database: 'crm', state: 'idle in transaction (aborted)', sessions: 1, blocked: 0, longest_xact: 0 },
          { database: 'crm', state: 'fastpath function call', sessions: 2, blocked: 0, longest_xact: 0 },
          { database: 'other', state: 'idle', sessions: 5, blocked: 0, longest_xact: 0 },
        ],
        locks: [],
      }),
    ];
    expect(series).toEqual([
      [['crm', 'active'], 0],
      [['crm', 'idle'], 0],
      [['crm', 'idle_in_transaction'], 0],
      [['crm', 'idle_in_transaction_aborted'], 0],
      [['crm', 'idle_in_transaction_aborted'], 1],
      [['crm', 'fastpath_function_call'], 2],
    ]); // the family merges the repeated label set (0 + 1)
  });
});

describe('server facts (server.ts)', () => {
  it('throws without a row, and keeps NULL lag and a missing pg_stat_statements apart from values', () => {
    expect(() => mapServerRow(undefined)).toThrow(/no row/);
    expect(
      mapServerRow({
        version: '16.4',
        version_num: '160004',
        current_database: 'postgres',
        in_recovery: false,
        replication_lag_seconds: null,
        max_connections: '100',
        pgss_version: null,
        pgss_schema: null,
        pgss_loaded: null,
      }),
    ).toEqual({
      version: '16.4',
      version_num: 160004,
      current_database: 'postgres',
      in_recovery: false,
      replication_lag_seconds: null,
      max_connections: 100,
      pgss_version: null,
      pgss_schema: null,
      pgss_loaded: false,
    });
  });
});

describe('pg_stat_statements rows (statements.ts)', () => {
  const r = {
    database: 'crm',
    queryid: '-42',
    calls: '3',
    seconds: 0.5,
    rows: '9',
    query: "SELECT 1 FROM t WHERE a = 'x'",
  };

  it('maps a row and replaces what is left of literals in the label text', () => {
    expect(mapStatementRow(r, 60)).toEqual({
      database: 'crm',
      queryid: '-42',
      calls: 3,
      seconds: 0.5,
      rows: 9,
      query: 'SELECT ? FROM t WHERE a = ?',
    });
  });

  it('skips a row with a NULL database, queryid or text, and a utility statement', () => {
    expect(mapStatementRow({ ...r, queryid: null }, 60)).toBeUndefined();
    expect(mapStatementRow({ ...r, database: null }, 60)).toBeUndefined();
    expect(mapStatementRow({ ...r, query: null }, 60)).toBeUndefined();
    expect(mapStatementRow({ ...r, query: "ALTER ROLE crm PASSWORD 'hunter2'" }, 60)).toBeUndefined();
  });
});
