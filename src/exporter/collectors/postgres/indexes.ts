import type { Row } from '../../sources/pg-query.js';
import { rowsFamily } from '../collector.js';
import { name, stat } from './row.js';

/* pg_stat_user_indexes, one database at a time: the SQL, its row, the mapping and the families. */

/** pg_stat_user_indexes of the connected database, largest indexes first. $1: max_indexes. */
export const INDEXES_SQL = `
SELECT i.schemaname AS schema, i.relname AS "table", i.indexrelname AS index,
       i.idx_scan, coalesce(pg_relation_size(i.indexrelid), 0) AS size_bytes
FROM pg_stat_user_indexes i
ORDER BY size_bytes DESC, i.schemaname, i.relname, i.indexrelname
LIMIT $1`;

export interface IndexRow {
  database: string;
  schema: string;
  table: string;
  index: string;
  idx_scan: number;
  size_bytes: number;
}

/** INDEXES_SQL's rows of `database`; a row with a NULL schema, table or index name is skipped (row.ts). */
export function mapIndexRows(database: string, rows: readonly Row[]): IndexRow[] {
  const out: IndexRow[] = [];
  for (const r of rows) {
    const schema = name(r.schema);
    const table = name(r.table);
    const index = name(r.index);
    if (schema === undefined || table === undefined || index === undefined) continue;
    out.push({ database, schema, table, index, idx_scan: stat(r.idx_scan), size_bytes: stat(r.size_bytes) });
  }
  return out;
}

const INDEX = ['database', 'schema', 'table', 'index'] as const;
const labels = (i: IndexRow): string[] => [i.database, i.schema, i.table, i.index];

export const INDEX_FAMILIES = [
  rowsFamily(
    {
      name: 'crm_pg_index_scans_total',
      help: 'Scans started on the index (pg_stat_user_indexes.idx_scan).',
      type: 'counter',
      labelNames: INDEX,
    },
    labels,
    (i: IndexRow) => i.idx_scan,
  ),
  rowsFamily(
    {
      name: 'crm_pg_index_size_bytes',
      help: 'Index size (pg_relation_size() of pg_stat_user_indexes.indexrelid).',
      type: 'gauge',
      labelNames: INDEX,
      unit: 'bytes',
    },
    labels,
    (i: IndexRow) => i.size_bytes,
  ),
];
