import type { Row } from '../../sources/pg-query.js';
import { rowsFamily } from '../collector.js';
import { name, stat, statOrNull } from './row.js';

/*
 * pg_stat_user_tables, one database at a time (postgres_exporter's collector/pg_stat_user_tables.go): the SQL, the
 * row it gives (fields named after its columns), the mapping, and the families. One name per number: the column
 * seq_scan is TableRow.seq_scan is crm_pg_table_seq_scans_total.
 */

/**
 * pg_stat_user_tables of the connected database, largest tables first. $1: max_tables. $2 boolean: read the
 * connected database's pg_database_size() too (see DATABASES_SQL in database.ts), carried by every row (NULL when
 * not read); a database without user tables gives one row whose table columns are NULL.
 */
export const TABLES_SQL = `
SELECT CASE WHEN $2::boolean THEN pg_database_size(current_database()) END AS database_size, t.*
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
  SELECT t.schemaname AS schema, t.relname AS "table",
         t.seq_scan, t.seq_tup_read, coalesce(t.idx_scan, 0) AS idx_scan, t.n_live_tup, t.n_dead_tup,
         coalesce(pg_table_size(t.relid), 0) AS size_bytes,
         coalesce(extract(epoch FROM t.last_autovacuum), 0)::float8 AS last_autovacuum
  FROM pg_stat_user_tables t
  ORDER BY size_bytes DESC, t.schemaname, t.relname
  LIMIT $1
) AS t ON true
ORDER BY t.size_bytes DESC NULLS LAST, t.schema, t."table"`;

export interface TableRow {
  database: string;
  schema: string;
  table: string;
  seq_scan: number;
  seq_tup_read: number;
  idx_scan: number;
  n_live_tup: number;
  n_dead_tup: number;
  size_bytes: number;
  /** Unix seconds, 0 when never autovacuumed. */
  last_autovacuum: number;
}

/**
 * TABLES_SQL's rows of `database`: the tables, and the database size when the query read it (else null). A row
 * whose schema or table is NULL is not a table (the size-only row of a database without user tables) and is
 * skipped; NULL statistics read as 0 (row.ts).
 */
export function mapTableRows(
  database: string,
  rows: readonly Row[],
): { databaseSize: number | null; tables: TableRow[] } {
  let databaseSize: number | null = null;
  const tables: TableRow[] = [];
  for (const r of rows) {
    databaseSize = statOrNull(r.database_size) ?? databaseSize;
    const schema = name(r.schema);
    const table = name(r.table);
    if (schema === undefined || table === undefined) continue;
    tables.push({
      database,
      schema,
      table,
      seq_scan: stat(r.seq_scan),
      seq_tup_read: stat(r.seq_tup_read),
      idx_scan: stat(r.idx_scan),
      n_live_tup: stat(r.n_live_tup),
      n_dead_tup: stat(r.n_dead_tup),
      size_bytes: stat(r.size_bytes),
      last_autovacuum: stat(r.last_autovacuum),
    });
  }
  return { databaseSize, tables };
}

const TABLE = ['database', 'schema', 'table'] as const;
const labels = (t: TableRow): string[] => [t.database, t.schema, t.table];

export const TABLE_FAMILIES = [
  rowsFamily(
    {
      name: 'crm_pg_table_seq_scans_total',
      help: 'Sequential scans started on the table (pg_stat_user_tables.seq_scan).',
      type: 'counter',
      labelNames: TABLE,
    },
    labels,
    (t: TableRow) => t.seq_scan,
  ),
  rowsFamily(
    {
      name: 'crm_pg_table_seq_rows_read_total',
      help: 'Live rows fetched by sequential scans (pg_stat_user_tables.seq_tup_read).',
      type: 'counter',
      labelNames: TABLE,
    },
    labels,
    (t: TableRow) => t.seq_tup_read,
  ),
  rowsFamily(
    {
      name: 'crm_pg_table_index_scans_total',
      help: 'Index scans started on the table, all its indexes together (pg_stat_user_tables.idx_scan).',
      type: 'counter',
      labelNames: TABLE,
    },
    labels,
    (t: TableRow) => t.idx_scan,
  ),
  rowsFamily(
    {
      name: 'crm_pg_table_live_rows',
      help: 'Estimated live rows (pg_stat_user_tables.n_live_tup).',
      type: 'gauge',
      labelNames: TABLE,
    },
    labels,
    (t: TableRow) => t.n_live_tup,
  ),
  rowsFamily(
    {
      name: 'crm_pg_table_dead_rows',
      help: 'Estimated dead rows (pg_stat_user_tables.n_dead_tup).',
      type: 'gauge',
      labelNames: TABLE,
    },
    labels,
    (t: TableRow) => t.n_dead_tup,
  ),
  rowsFamily(
    {
      name: 'crm_pg_table_size_bytes',
      help: 'Table size without indexes: heap, TOAST, free space and visibility maps (pg_table_size()).',
      type: 'gauge',
      labelNames: TABLE,
      unit: 'bytes',
    },
    labels,
    (t: TableRow) => t.size_bytes,
  ),
  rowsFamily(
    {
      name: 'crm_pg_table_last_autovacuum_timestamp_seconds',
      help: 'When autovacuum last vacuumed the table, 0 if never (pg_stat_user_tables.last_autovacuum).',
      type: 'gauge',
      labelNames: TABLE,
      unit: 'seconds',
    },
    labels,
    (t: TableRow) => t.last_autovacuum,
  ),
];
