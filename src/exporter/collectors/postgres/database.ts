import { defineFamily } from '../../exposition/family.js';
import type { Row } from '../../sources/pg-query.js';
import { rowsFamily, snapshotFamily } from '../collector.js';
import { name, stat, statOrNull } from './row.js';

/* pg_stat_database (and pg_database_size()): the SQL, its row, the mapping and the families. */

/**
 * pg_stat_database for every monitored database in one query, which also decides which databases are monitored.
 * $1 text[]: the configured list, or NULL for auto-discovery (non-template databases that allow connections and
 * that the exporter may CONNECT to). $2: the cap. $3 boolean: compute every database's size here.
 * Largest databases first, ties by name.
 *
 * pg_database_size() stats every file of a database (about 1 ms per database here), and this query is on the
 * critical path of every scrape. So it runs here only when its result is needed: to choose the largest databases
 * when there are more candidates than the cap, or when $3 says no per-database query follows. Otherwise size_bytes
 * is NULL and each database's size comes from TABLES_SQL (tables.ts), on that database's own connection, in
 * parallel.
 */
export const DATABASES_SQL = `
WITH c AS (
  SELECT d.oid, d.datname, count(*) OVER () AS candidates
  FROM pg_database d
  WHERE d.datallowconn
    AND has_database_privilege(d.oid, 'CONNECT')
    AND CASE WHEN $1::text[] IS NULL THEN NOT d.datistemplate ELSE d.datname = ANY ($1::text[]) END
)
SELECT c.datname AS database,
       s.xact_commit, s.xact_rollback, s.blks_hit, s.blks_read, s.deadlocks, s.temp_bytes,
       s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted,
       CASE WHEN $3::boolean OR c.candidates > $2 THEN pg_database_size(c.oid) END AS size_bytes
FROM c
JOIN pg_stat_database s ON s.datid = c.oid
ORDER BY size_bytes DESC NULLS LAST, c.datname
LIMIT $2`;

/** crm_pg_rows_total{op}: op -> the pg_stat_database column. */
export const ROW_OPS = {
  returned: 'tup_returned',
  fetched: 'tup_fetched',
  inserted: 'tup_inserted',
  updated: 'tup_updated',
  deleted: 'tup_deleted',
} as const;

type RowColumn = (typeof ROW_OPS)[keyof typeof ROW_OPS];

export type DatabaseRow = { database: string } & Record<
  'xact_commit' | 'xact_rollback' | 'blks_hit' | 'blks_read' | 'deadlocks' | 'temp_bytes' | RowColumn,
  number
> & {
    /** pg_database_size(); null when not read this scrape (then from TABLES_SQL or the cache, or left out). */
    size_bytes: number | null;
  };

/** One DATABASES_SQL row; undefined (skipped) when the database name is NULL. NULL statistics read as 0. */
export function mapDatabaseRow(r: Row): DatabaseRow | undefined {
  const database = name(r.database);
  if (database === undefined) return undefined;
  return {
    database,
    xact_commit: stat(r.xact_commit),
    xact_rollback: stat(r.xact_rollback),
    blks_hit: stat(r.blks_hit),
    blks_read: stat(r.blks_read),
    deadlocks: stat(r.deadlocks),
    temp_bytes: stat(r.temp_bytes),
    tup_returned: stat(r.tup_returned),
    tup_fetched: stat(r.tup_fetched),
    tup_inserted: stat(r.tup_inserted),
    tup_updated: stat(r.tup_updated),
    tup_deleted: stat(r.tup_deleted),
    size_bytes: statOrNull(r.size_bytes),
  };
}

const DB = ['database'] as const;
const labels = (d: DatabaseRow): string[] => [d.database];
const counter = (metric: string, column: keyof DatabaseRow & string, what: string) =>
  rowsFamily(
    { name: metric, help: `${what} (pg_stat_database.${column}).`, type: 'counter', labelNames: DB },
    labels,
    (d: DatabaseRow) => d[column] as number,
  );

export const DATABASE_FAMILIES = [
  counter('crm_pg_xact_commits_total', 'xact_commit', 'Transactions committed'),
  counter('crm_pg_xact_rollbacks_total', 'xact_rollback', 'Transactions rolled back'),
  counter('crm_pg_blocks_hit_total', 'blks_hit', 'Disk blocks found in the shared buffer cache'),
  counter('crm_pg_blocks_read_total', 'blks_read', 'Disk blocks read because they were not in shared buffers'),
  counter('crm_pg_deadlocks_total', 'deadlocks', 'Deadlocks detected'),
  counter('crm_pg_temp_bytes_total', 'temp_bytes', 'Bytes written to temporary files by queries'),
  snapshotFamily(
    defineFamily({
      name: 'crm_pg_rows_total',
      help: 'Rows returned, fetched, inserted, updated or deleted by queries (pg_stat_database.tup_<op>).',
      type: 'counter',
      labelNames: ['database', 'op'],
    }),
    (rows: readonly DatabaseRow[], emit) => {
      for (const d of rows)
        for (const [op, column] of Object.entries(ROW_OPS) as Array<[string, RowColumn]>)
          emit(d[column], [d.database, op]);
    },
  ),
  rowsFamily(
    {
      name: 'crm_pg_database_size_bytes',
      help: 'Disk space used by the database (pg_database_size()).',
      type: 'gauge',
      labelNames: DB,
      unit: 'bytes',
    },
    labels,
    (d: DatabaseRow) => d.size_bytes ?? undefined,
  ),
];
