import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { mapActivityRow } from '../../src/exporter/collectors/postgres/activity.js';
import { registerPostgresFamilies } from '../../src/exporter/collectors/postgres/collector.js';
import { mapDatabaseRow, type DatabaseRow } from '../../src/exporter/collectors/postgres/database.js';
import type { PostgresSnapshot } from '../../src/exporter/collectors/postgres/gather.js';
import { mapIndexRows } from '../../src/exporter/collectors/postgres/indexes.js';
import { mapServerRow } from '../../src/exporter/collectors/postgres/server.js';
import { mapStatementRow } from '../../src/exporter/collectors/postgres/statements.js';
import { mapTableRows } from '../../src/exporter/collectors/postgres/tables.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';
import { checkExposition } from '../helpers/exposition.js';
import { hostileString } from '../helpers/hostile.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/*
 * Issue 11 B5: names in PostgreSQL are data any database user controls. A quoted identifier can hold quotes,
 * backslashes, newlines and any Unicode (everything but NUL, up to 63 bytes), and those names become label values
 * (database, schema, table, index), as does every statement text after redaction. Whatever they are, the snapshot is
 * mapped and rendered without a throw and served as a well-formed exposition that unescapes back to the same names.
 */
const ident = hostileString(20).map((s) => s.replace(/\0/g, ''));
const count = fc.nat({ max: 1_000_000 });

const snapshot: fc.Arbitrary<PostgresSnapshot> = fc
  .record({
    dbs: fc.uniqueArray(ident, { minLength: 1, maxLength: 3 }),
    tables: fc.array(fc.tuple(ident, ident, ident), { maxLength: 4 }),
    states: fc.array(
      fc.oneof(fc.constantFrom('active', 'idle in transaction (aborted)', 'fastpath function call'), hostileString(12)),
      { maxLength: 3 },
    ),
    queries: fc.array(
      fc.tuple(
        fc.oneof(fc.constant('SELECT * FROM '), fc.constant('UPDATE '), hostileString(5)),
        ident,
        hostileString(30),
      ),
      { maxLength: 4 },
    ),
    version: hostileString(15),
    n: count,
  })
  .map(({ dbs, tables, states, queries, version, n }) => {
    // through each view's own row mapping, as the rows come from pg
    const {
      pgss_version: _v,
      pgss_schema: _s,
      pgss_loaded: _l,
      ...server
    } = mapServerRow({
      version,
      version_num: 150000,
      current_database: dbs[0],
      in_recovery: false,
      replication_lag_seconds: null,
      max_connections: 100,
    });
    const db = (i: number): string => dbs[i % dbs.length] as string;
    const stats = { xact_commit: n, xact_rollback: 1, blks_hit: 2, blks_read: 3, deadlocks: 0, temp_bytes: 0 };
    const ops = { tup_returned: 1, tup_fetched: 2, tup_inserted: 3, tup_updated: 4, tup_deleted: 5 };
    return {
      server,
      databases: dbs.map((database) => mapDatabaseRow({ database, ...stats, ...ops, size_bytes: n }) as DatabaseRow),
      ...mapActivityRow({
        sessions: states.map((state, i) => ({ database: db(i), state, sessions: 1, blocked: 0, longest_xact: 0.5 })),
        locks: [{ database: dbs[0], mode: 'AccessShareLock', granted: true, locks: 2 }],
      }),
      tables: tables.flatMap(
        ([schema, table], i) =>
          mapTableRows(db(i), [
            {
              schema,
              table,
              seq_scan: 1,
              seq_tup_read: 2,
              idx_scan: 3,
              n_live_tup: 4,
              n_dead_tup: 5,
              size_bytes: 6,
              last_autovacuum: 0,
            },
          ]).tables,
      ),
      indexes: tables.flatMap(([schema, table, index], i) =>
        mapIndexRows(db(i), [{ schema, table, index, idx_scan: 1, size_bytes: 2 }]),
      ),
      statements: {
        enabled: true as const,
        rows: queries.flatMap(
          ([verb, name, rest], i) =>
            mapStatementRow(
              {
                database: db(i),
                queryid: String(i),
                calls: 1,
                seconds: 0.5,
                rows: 2,
                query: `${verb}"${name}" ${rest}`,
              },
              200,
            ) ?? [],
        ),
      },
      queries: 7,
    };
  });

describe('PostgreSQL names and statement texts in labels', () => {
  it('any identifiers and statements: written without a throw, served well formed, names unescape to themselves', async () => {
    let promtoolRuns = 0;
    await fc.assert(
      fc.asyncProperty(snapshot, async (s) => {
        const registry = new Registry();
        registerPostgresFamilies(registry, () => s);
        const text = await renderPrometheusText(registry);
        const samples = checkExposition(text, false);
        const tables = new Set(
          samples
            .filter((x) => x.name === 'crm_pg_table_size_bytes')
            .map((x) => JSON.stringify([x.labels.database, x.labels.schema, x.labels.table])),
        );
        expect(tables).toEqual(new Set(s.tables.map((t) => JSON.stringify([t.database, t.schema, t.table]))));
        const databases = new Set(
          samples.filter((x) => x.name === 'crm_pg_database_size_bytes').map((x) => x.labels.database),
        );
        expect(databases).toEqual(new Set(s.databases.map((d) => d.database)));
        if (promtoolRuns < 5 && /\\[\\"n]/.test(text)) {
          promtoolRuns++;
          expect(promtoolCheckMetrics(text), 'promtool check metrics').toBe('');
        }
      }),
      { numRuns: 400 },
    );
    expect(promtoolRuns).toBeGreaterThan(0);
  });
});
