import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Metric definitions of the PostgreSQL collector (names live beside their definitions, never typed a second time). The HELP text
 * names the view and column each value comes from.
 */

const DB = ['database'] as const;
const TABLE = ['database', 'schema', 'table'] as const;
const INDEX = ['database', 'schema', 'table', 'index'] as const;
const STATEMENT = ['database', 'queryid'] as const;

/** pg_stat_database columns mirrored as counters: metric key -> [name, column]. */
export const DATABASE_COUNTERS = {
  xactCommits: ['crm_pg_xact_commits_total', 'xact_commit', 'Transactions committed'],
  xactRollbacks: ['crm_pg_xact_rollbacks_total', 'xact_rollback', 'Transactions rolled back'],
  blocksHit: ['crm_pg_blocks_hit_total', 'blks_hit', 'Disk blocks found in the shared buffer cache'],
  blocksRead: ['crm_pg_blocks_read_total', 'blks_read', 'Disk blocks read because they were not in shared buffers'],
  deadlocks: ['crm_pg_deadlocks_total', 'deadlocks', 'Deadlocks detected'],
  tempBytes: ['crm_pg_temp_bytes_total', 'temp_bytes', 'Bytes written to temporary files by queries'],
} as const;

/** crm_pg_rows_total{op}: op -> pg_stat_database column. */
export const ROW_OPS = {
  returned: 'tup_returned',
  fetched: 'tup_fetched',
  inserted: 'tup_inserted',
  updated: 'tup_updated',
  deleted: 'tup_deleted',
} as const;

/** Session states always exported (0 when none); others (fastpath function call, disabled, unknown) when seen. */
export const CONNECTION_STATES = ['active', 'idle', 'idle_in_transaction', 'idle_in_transaction_aborted'] as const;

type DatabaseCounterKey = keyof typeof DATABASE_COUNTERS;

/** Metrics without labels: prom-client serves them as 0 after reset(), so clearing must also remove() them. */
const unlabelled = new WeakSet<object>();

export function createPostgresMetrics(registry: Registry) {
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => {
    const metric = new Gauge<L>({ name, help, labelNames, registers });
    if (labelNames.length === 0) unlabelled.add(metric);
    return metric;
  };
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });

  // Registration order is exposition order: server facts first, then per database, tables, indexes, statements.
  const server = {
    up: gauge('crm_pg_up', 'Whether the last scrape could query PostgreSQL (1) or not (0).'),
    serverInfo: gauge('crm_pg_server_info', 'Always 1; the PostgreSQL server version (server_version setting).', [
      'version',
    ]),
    inRecovery: gauge('crm_pg_in_recovery', 'Whether the server is a replica in recovery (pg_is_in_recovery()).'),
    replicationLag: gauge(
      'crm_pg_replication_lag_seconds',
      'Replicas only: seconds since the last replayed transaction, 0 when replay has caught up with the received WAL (now() - pg_last_xact_replay_timestamp()).',
    ),
    connections: gauge('crm_pg_connections', 'Client sessions by state (pg_stat_activity.state, client backends).', [
      'database',
      'state',
    ]),
    maxConnections: gauge(
      'crm_pg_max_connections',
      'Maximum number of concurrent connections (max_connections setting).',
    ),
  };
  const databaseCounters = Object.fromEntries(
    Object.entries(DATABASE_COUNTERS).map(([key, [name, column, what]]) => [
      key,
      counter(name, `${what} (pg_stat_database.${column}).`, DB),
    ]),
  ) as Record<DatabaseCounterKey, Counter<'database'>>;

  return {
    ...server,
    ...databaseCounters,
    rows: counter(
      'crm_pg_rows_total',
      'Rows returned, fetched, inserted, updated or deleted by queries (pg_stat_database.tup_<op>).',
      ['database', 'op'],
    ),
    databaseSize: gauge('crm_pg_database_size_bytes', 'Disk space used by the database (pg_database_size()).', DB),
    locks: gauge(
      'crm_pg_locks',
      'Locks held or awaited by backends of the database (pg_locks.mode, pg_locks.granted).',
      ['database', 'mode', 'granted'],
    ),
    blockedSessions: gauge(
      'crm_pg_blocked_sessions',
      'Client sessions waiting for a lock (pg_stat_activity.wait_event_type = Lock).',
      DB,
    ),
    longestTransaction: gauge(
      'crm_pg_longest_transaction_seconds',
      'Age of the oldest open transaction, 0 when none (now() - pg_stat_activity.xact_start).',
      DB,
    ),
    tableSeqScans: counter(
      'crm_pg_table_seq_scans_total',
      'Sequential scans started on the table (pg_stat_user_tables.seq_scan).',
      TABLE,
    ),
    tableSeqRowsRead: counter(
      'crm_pg_table_seq_rows_read_total',
      'Live rows fetched by sequential scans (pg_stat_user_tables.seq_tup_read).',
      TABLE,
    ),
    tableIndexScans: counter(
      'crm_pg_table_index_scans_total',
      'Index scans started on the table, all its indexes together (pg_stat_user_tables.idx_scan).',
      TABLE,
    ),
    tableLiveRows: gauge('crm_pg_table_live_rows', 'Estimated live rows (pg_stat_user_tables.n_live_tup).', TABLE),
    tableDeadRows: gauge('crm_pg_table_dead_rows', 'Estimated dead rows (pg_stat_user_tables.n_dead_tup).', TABLE),
    tableSize: gauge(
      'crm_pg_table_size_bytes',
      'Table size without indexes: heap, TOAST, free space and visibility maps (pg_table_size()).',
      TABLE,
    ),
    tableLastAutovacuum: gauge(
      'crm_pg_table_last_autovacuum_timestamp_seconds',
      'When autovacuum last vacuumed the table, 0 if never (pg_stat_user_tables.last_autovacuum).',
      TABLE,
    ),
    indexScans: counter(
      'crm_pg_index_scans_total',
      'Scans started on the index (pg_stat_user_indexes.idx_scan).',
      INDEX,
    ),
    indexSize: gauge(
      'crm_pg_index_size_bytes',
      'Index size (pg_relation_size() of pg_stat_user_indexes.indexrelid).',
      INDEX,
    ),
    statementsEnabled: gauge(
      'crm_pg_statements_enabled',
      'Whether top statements are collected (1): pg_stat_statements installed in the primary database and preloaded, and statements.enabled.',
    ),
    statementCalls: counter(
      'crm_pg_statement_calls_total',
      'Times the statement was executed (pg_stat_statements.calls).',
      STATEMENT,
    ),
    statementSeconds: counter(
      'crm_pg_statement_seconds_total',
      'Time spent planning and executing the statement (pg_stat_statements.total_exec_time + total_plan_time).',
      STATEMENT,
    ),
    statementRows: counter(
      'crm_pg_statement_rows_total',
      'Rows retrieved or affected by the statement (pg_stat_statements.rows).',
      STATEMENT,
    ),
    statementInfo: gauge(
      'crm_pg_statement_info',
      'Always 1; the text of a top statement with any literal left replaced by ?, truncated (pg_stat_statements.query). Utility statements are never exported.',
      ['database', 'queryid', 'query'],
    ),
    scrapeQueries: gauge(
      'crm_pg_scrape_queries',
      'SQL queries the collector issued during the last successful scrape.',
    ),
  };
}

export type PostgresMetrics = ReturnType<typeof createPostgresMetrics>;

/** Removes every sample of every metric, so nothing stale is served (HELP/TYPE lines stay). */
export function clearPostgresSeries(m: PostgresMetrics): void {
  for (const metric of Object.values(m)) {
    metric.reset();
    if (unlabelled.has(metric)) (metric as Gauge).remove();
  }
}

/** Every metric name of the collector, for the consistency tests. */
export const POSTGRES_METRIC_NAMES: readonly string[] = [
  'crm_pg_up',
  'crm_pg_server_info',
  'crm_pg_in_recovery',
  'crm_pg_replication_lag_seconds',
  'crm_pg_connections',
  'crm_pg_max_connections',
  ...Object.values(DATABASE_COUNTERS).map(([name]) => name),
  'crm_pg_rows_total',
  'crm_pg_database_size_bytes',
  'crm_pg_locks',
  'crm_pg_blocked_sessions',
  'crm_pg_longest_transaction_seconds',
  'crm_pg_table_seq_scans_total',
  'crm_pg_table_seq_rows_read_total',
  'crm_pg_table_index_scans_total',
  'crm_pg_table_live_rows',
  'crm_pg_table_dead_rows',
  'crm_pg_table_size_bytes',
  'crm_pg_table_last_autovacuum_timestamp_seconds',
  'crm_pg_index_scans_total',
  'crm_pg_index_size_bytes',
  'crm_pg_statements_enabled',
  'crm_pg_statement_calls_total',
  'crm_pg_statement_seconds_total',
  'crm_pg_statement_rows_total',
  'crm_pg_statement_info',
  'crm_pg_scrape_queries',
];
