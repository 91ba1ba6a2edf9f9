import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { writePostgresSnapshot, type PostgresSnapshot } from '../../src/exporter/collectors/postgres.js';
import { createPostgresMetrics } from '../../src/exporter/collectors/postgres-metrics.js';
import { checkExposition } from '../helpers/exposition.js';
import { hostileString } from '../helpers/hostile.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/*
 * Issue 11 B5: names in PostgreSQL are data any database user controls. A quoted identifier can hold quotes,
 * backslashes, newlines and any Unicode (everything but NUL, up to 63 bytes), and those names become label values
 * (database, schema, table, index), as does every statement text after redaction. Whatever they are, the snapshot is
 * written without a throw and served as a well-formed exposition that unescapes back to the same names.
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
  .map(({ dbs, tables, states, queries, version, n }) => ({
    server: {
      version,
      versionNum: 150000,
      currentDatabase: dbs[0] as string,
      inRecovery: false,
      replicationLagSeconds: null,
      maxConnections: 100,
    },
    databases: dbs.map((database) => ({
      database,
      xactCommits: n,
      xactRollbacks: 1,
      blocksHit: 2,
      blocksRead: 3,
      deadlocks: 0,
      tempBytes: 0,
      rows: { returned: 1, fetched: 2, inserted: 3, updated: 4, deleted: 5 },
      sizeBytes: n,
    })),
    sessions: states.map((state, i) => ({
      database: dbs[i % dbs.length] as string,
      state,
      sessions: 1,
      blocked: 0,
      longestTransactionSeconds: 0.5,
    })),
    locks: [{ database: dbs[0] as string, mode: 'AccessShareLock', granted: true, locks: 2 }],
    tables: tables.map(([schema, table], i) => ({
      database: dbs[i % dbs.length] as string,
      schema,
      table,
      seqScans: 1,
      seqRowsRead: 2,
      indexScans: 3,
      liveRows: 4,
      deadRows: 5,
      sizeBytes: 6,
      lastAutovacuum: 0,
    })),
    indexes: tables.map(([schema, table, index], i) => ({
      database: dbs[i % dbs.length] as string,
      schema,
      table,
      index,
      scans: 1,
      sizeBytes: 2,
    })),
    statements: {
      enabled: true as const,
      rows: queries.map(([verb, name, rest], i) => ({
        database: dbs[i % dbs.length] as string,
        queryid: String(i),
        calls: 1,
        seconds: 0.5,
        rows: 2,
        query: `${verb}"${name}" ${rest}`,
      })),
    },
    queries: 7,
  }));

describe('PostgreSQL names and statement texts in labels', () => {
  it('any identifiers and statements: written without a throw, served well formed, names unescape to themselves', async () => {
    let promtoolRuns = 0;
    await fc.assert(
      fc.asyncProperty(snapshot, async (s) => {
        const registry = new Registry();
        const m = createPostgresMetrics(registry);
        writePostgresSnapshot(m, s, 200);
        const text = await registry.metrics();
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
