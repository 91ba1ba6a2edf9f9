import { defineFamily } from '../../exposition/family.js';
import type { Row } from '../../sources/pg-query.js';
import { snapshotFamily } from '../collector.js';
import { name, stat, statOrNull } from './row.js';

/* Server-wide facts (settings and recovery functions, read on the primary connection): SQL, row, mapping, families. */

/** Servers older than 13 are refused rather than half-supported (the views read here have the same columns in 13-17). */
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

export interface ServerRow {
  version: string;
  version_num: number;
  current_database: string;
  in_recovery: boolean;
  /** Only meaningful on a replica; null when unknown or on a primary. */
  replication_lag_seconds: number | null;
  max_connections: number;
}

/** Where pg_stat_statements is (statements.ts): null version or schema when it is not installed here. */
export interface StatementsExtension {
  pgss_version: string | null;
  pgss_schema: string | null;
  pgss_loaded: boolean;
}

/** SERVER_SQL's one row. Throws without a row (the collector fails: nothing is known about the server). */
export function mapServerRow(row: Row | undefined): ServerRow & StatementsExtension {
  if (!row) throw new Error('server query returned no row');
  return {
    version: name(row.version) ?? 'unknown',
    version_num: stat(row.version_num),
    current_database: name(row.current_database) ?? '',
    in_recovery: row.in_recovery === true,
    replication_lag_seconds: statOrNull(row.replication_lag_seconds),
    max_connections: stat(row.max_connections),
    pgss_version: name(row.pgss_version) ?? null,
    pgss_schema: name(row.pgss_schema) ?? null,
    pgss_loaded: row.pgss_loaded === true,
  };
}

export const SERVER_INFO_FAMILIES = [
  snapshotFamily(
    defineFamily({
      name: 'crm_pg_server_info',
      help: 'Always 1; the PostgreSQL server version (server_version setting).',
      type: 'gauge',
      labelNames: ['version'],
    }),
    (s: ServerRow, emit) => emit(1, [s.version]),
  ),
  snapshotFamily(
    defineFamily({
      name: 'crm_pg_in_recovery',
      help: 'Whether the server is a replica in recovery (pg_is_in_recovery()).',
      type: 'gauge',
      labelNames: [],
    }),
    (s: ServerRow, emit) => emit(s.in_recovery ? 1 : 0),
  ),
  snapshotFamily(
    defineFamily({
      name: 'crm_pg_replication_lag_seconds',
      help: 'Replicas only: seconds since the last replayed transaction, 0 when replay has caught up with the received WAL (now() - pg_last_xact_replay_timestamp()).',
      type: 'gauge',
      labelNames: [],
      unit: 'seconds',
    }),
    (s: ServerRow, emit) => {
      if (s.in_recovery && s.replication_lag_seconds !== null) emit(s.replication_lag_seconds);
    },
  ),
];

export const MAX_CONNECTIONS_FAMILY = snapshotFamily(
  defineFamily({
    name: 'crm_pg_max_connections',
    help: 'Maximum number of concurrent connections (max_connections setting).',
    type: 'gauge',
    labelNames: [],
  }),
  (s: ServerRow, emit) => emit(s.max_connections),
);
