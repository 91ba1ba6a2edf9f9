import { plannableStatementSql } from '../parsers/statement-text.js';

/**
 * The SQL of the PostgreSQL collector. One query per statistics view per scrape (per database for the
 * per-database views), every column the collector needs fetched in that one query.
 *
 * Version differences (PostgreSQL 13-17) are handled here:
 * - pg_stat_statements: extension 1.8 (PostgreSQL 13) split `total_time` into `total_exec_time` +
 *   `total_plan_time`; 1.9 (PostgreSQL 14) added `toplevel` (nested statements are excluded so a function's time
 *   is not counted twice when pg_stat_statements.track = all). A cluster upgraded with pg_upgrade may still run an
 *   older extension version than its server, so the choice follows the installed extension version, not the
 *   server version.
 * - The other views read here have the same columns in 13-17; servers older than 13 are refused
 *   (`MIN_SERVER_VERSION_NUM`) rather than half-supported.
 */

export const MIN_SERVER_VERSION_NUM = 130000;

/**
 * Server-wide facts, from the primary connection: version, recovery state and lag, max_connections, and
 * whether pg_stat_statements is installed in this database and preloaded.
 */
export const SERVER_SQL = `
SELECT split_part(current_setting('server_version'), ' ', 1) AS version,
       current_setting('server_version_num')::int AS version_num,
       current_database() AS current_database,
       pg_is_in_recovery() AS in_recovery,
       CASE WHEN pg_is_in_recovery() THEN
         CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
              ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::float8 END
       END AS replication_lag_seconds,
       current_setting('max_connections')::int AS max_connections,
       e.extversion AS pgss_version,
       quote_ident(n.nspname) AS pgss_schema,
       'pg_stat_statements' = ANY (string_to_array(replace(replace(current_setting('shared_preload_libraries'), ' ', ''), '"', ''), ',')) AS pgss_loaded
FROM (SELECT 1) AS one
LEFT JOIN pg_extension e ON e.extname = 'pg_stat_statements'
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace`;

/**
 * pg_stat_database for every monitored database in one query, which also decides which databases are monitored.
 * $1 text[]: the configured list, or NULL for auto-discovery (non-template databases that allow connections and
 * that the exporter may CONNECT to). $2: the cap. $3 boolean: compute every database's size here.
 * Largest databases first, ties by name.
 *
 * pg_database_size() stats every file of a database (about 1 ms per database here), and this query is on the
 * critical path of every scrape. So it runs here only when its result is needed: to choose the largest databases
 * when there are more candidates than the cap, or when $3 says no per-database query follows. Otherwise size_bytes
 * is NULL and each database's size comes from TABLES_SQL, on that database's own connection, in parallel.
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

/**
 * pg_stat_activity and pg_locks in one query (the activity view is read once and joined to the locks).
 * $1 text[]: monitored databases. Sessions are client backends; locks are those of any backend of a monitored
 * database (autovacuum included), attributed to the backend's database so transactionid/virtualxid locks count.
 * The exporter's own backend is left out of the locks and of the longest transaction.
 */
export const ACTIVITY_SQL = `
WITH a AS MATERIALIZED (
  SELECT pid, datname, backend_type, state, wait_event_type, xact_start
  FROM pg_stat_activity
  WHERE datname = ANY ($1::text[])
)
SELECT
  (SELECT coalesce(json_agg(x), '[]'::json) FROM (
     SELECT datname AS database, coalesce(state, 'unknown') AS state, count(*) AS sessions,
            count(*) FILTER (WHERE wait_event_type = 'Lock') AS blocked,
            coalesce(max(greatest(0, extract(epoch FROM now() - xact_start))) FILTER (WHERE pid <> pg_backend_pid()), 0)::float8 AS longest_xact
     FROM a
     WHERE backend_type = 'client backend'
     GROUP BY datname, state) x) AS sessions,
  (SELECT coalesce(json_agg(y), '[]'::json) FROM (
     SELECT a.datname AS database, l.mode, l.granted, count(*) AS locks
     FROM pg_locks l
     JOIN a ON a.pid = l.pid
     WHERE l.pid <> pg_backend_pid()
     GROUP BY a.datname, l.mode, l.granted) y) AS locks`;

/**
 * pg_stat_user_tables of the connected database, largest tables first. $1: max_tables. $2 boolean: read the
 * connected database's pg_database_size() too (see DATABASES_SQL), carried by every row (NULL when not read); a
 * database without user tables gives one row whose table columns are NULL.
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

/** pg_stat_user_indexes of the connected database, largest indexes first. $1: max_indexes. */
export const INDEXES_SQL = `
SELECT i.schemaname AS schema, i.relname AS "table", i.indexrelname AS index,
       i.idx_scan, coalesce(pg_relation_size(i.indexrelid), 0) AS size_bytes
FROM pg_stat_user_indexes i
ORDER BY size_bytes DESC, i.schemaname, i.relname, i.indexrelname
LIMIT $1`;

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
 * line breaks kept since they end `--` comments; redacted and cut exactly by the collector).
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
