import { defineFamily } from '../../exposition/family.js';
import { plannableStatementSql, statementLabel } from '../../parsers/statement-text.js';
import type { Row } from '../../sources/pg-query.js';
import { focus, rowsFamily, snapshotFamily } from '../collector.js';
import { name, stat } from './row.js';

/*
 * pg_stat_statements: the SQL (per extension version), its row, the mapping and the families.
 *
 * Extension 1.8 (PostgreSQL 13) split `total_time` into `total_exec_time` + `total_plan_time`; 1.9 (PostgreSQL 14)
 * added `toplevel` (nested statements are excluded so a function's time is not counted twice when
 * pg_stat_statements.track = all). A cluster upgraded with pg_upgrade may still run an older extension version than
 * its server, so the choice follows the installed extension version, not the server version.
 */

/** "1.10" -> [1, 10]; anything unparsable compares as the oldest version. */
export function parseExtensionVersion(version: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = parseExtensionVersion(version);
  return a > major || (a === major && b >= minor);
}

/**
 * Top statements by total time across the monitored databases, from the pg_stat_statements view in `schema`
 * (quoted identifier). Rows of the same (database, queryid) from different users are summed. The top-N is global,
 * so the statement series are bounded by `limit` whatever the number of databases. Only statements whose text
 * pg_stat_statements normalises are candidates (parsers/statement-text.ts: utility statements keep secrets in
 * their text and in their queryid).
 * $1 text[]: monitored databases. $2: limit. $3: characters of query text to return (runs of blanks collapsed,
 * line breaks kept since they end `--` comments; redacted and cut exactly by mapStatementRow).
 */
export function statementsSql(extensionVersion: string, schema: string): string {
  const time = atLeast(extensionVersion, 1, 8) ? 'p.total_exec_time + p.total_plan_time' : 'p.total_time';
  const toplevel = atLeast(extensionVersion, 1, 9) ? '\n    AND p.toplevel' : '';
  return `
WITH s AS (
  SELECT d.datname AS database, p.queryid,
         sum(p.calls) AS calls, sum(${time}) / 1000.0 AS seconds, sum(p.rows) AS rows, min(p.query) AS query
  FROM ${schema}.pg_stat_statements p
  JOIN pg_database d ON d.oid = p.dbid
  WHERE d.datname = ANY ($1::text[])
    AND p.queryid IS NOT NULL${toplevel}
    AND ${plannableStatementSql('p.query')}
  GROUP BY d.datname, p.queryid
  ORDER BY seconds DESC, calls DESC, d.datname, p.queryid
  LIMIT $2
)
SELECT database, queryid::text AS queryid, calls, seconds::float8 AS seconds, rows,
       left(btrim(regexp_replace(regexp_replace(query, '[ \\t\\r\\f\\v]+', ' ', 'g'), ' ?\\n\\s*', E'\\n', 'g')), $3) AS query
FROM s`;
}

/**
 * Characters of statement text to fetch for a `query_length` label: redaction shortens the text (literals become
 * `?`, comments go), so more is read than is shown.
 */
export function statementFetchLength(queryLength: number): number {
  return 2 * queryLength + 256;
}

export interface StatementRow {
  database: string;
  queryid: string;
  calls: number;
  seconds: number;
  rows: number;
  /** The label text: literals replaced by ?, cut to query_length (parsers/statement-text.ts). */
  query: string;
}

/**
 * One statementsSql row. Skipped (undefined) when the database or queryid is NULL, or when the text is not
 * exportable (the server query already leaves those out; a text that still is not loses every series here).
 */
export function mapStatementRow(r: Row, queryLength: number): StatementRow | undefined {
  const database = name(r.database);
  const queryid = name(r.queryid);
  const query = statementLabel(name(r.query) ?? '', queryLength);
  if (database === undefined || queryid === undefined || query === undefined) return undefined;
  return { database, queryid, calls: stat(r.calls), seconds: stat(r.seconds), rows: stat(r.rows), query };
}

/** Why top statements are or are not collected; the collector logs each change once. */
export type StatementsState =
  { enabled: true } | { enabled: false; reason: 'config' | 'not-installed' | 'not-loaded'; database: string };

export type StatementsView = StatementsState & { rows: StatementRow[] };

const STATEMENT = ['database', 'queryid'] as const;
const labels = (st: StatementRow): string[] => [st.database, st.queryid];

export const STATEMENT_FAMILIES = [
  snapshotFamily(
    defineFamily({
      name: 'crm_pg_statements_enabled',
      help: 'Whether top statements are collected (1): pg_stat_statements installed in the primary database and preloaded, and statements.enabled.',
      type: 'gauge',
      labelNames: [],
    }),
    (v: StatementsView, emit) => emit(v.enabled ? 1 : 0),
  ),
  ...focus(
    [
      rowsFamily(
        {
          name: 'crm_pg_statement_calls_total',
          help: 'Times the statement was executed (pg_stat_statements.calls).',
          type: 'counter',
          labelNames: STATEMENT,
        },
        labels,
        (st: StatementRow) => st.calls,
      ),
      rowsFamily(
        {
          name: 'crm_pg_statement_seconds_total',
          help: 'Time spent planning and executing the statement (pg_stat_statements.total_exec_time + total_plan_time).',
          type: 'counter',
          labelNames: STATEMENT,
          unit: 'seconds',
        },
        labels,
        (st: StatementRow) => st.seconds,
      ),
      rowsFamily(
        {
          name: 'crm_pg_statement_rows_total',
          help: 'Rows retrieved or affected by the statement (pg_stat_statements.rows).',
          type: 'counter',
          labelNames: STATEMENT,
        },
        labels,
        (st: StatementRow) => st.rows,
      ),
      rowsFamily(
        {
          name: 'crm_pg_statement_info',
          help: 'Always 1; the text of a top statement with any literal left replaced by ?, truncated (pg_stat_statements.query). Utility statements are never exported.',
          type: 'gauge',
          labelNames: ['database', 'queryid', 'query'],
        },
        (st: StatementRow) => [st.database, st.queryid, st.query],
        () => 1,
      ),
    ],
    (v: StatementsView) => v.rows,
  ),
];
