import { durationSeconds } from '../prom-duration.js';
import type { Thresholds } from '../thresholds-schema.js';
import { buildAlert, defined } from './alert.js';
import { num, selectors } from './promql.js';
import { serviceNames } from './recording.js';
import type { RuleGroup } from './types.js';

/** PostgreSQL alerts on what the exporter's postgres collector serves (crm_pg_*). */
export function postgresAlertGroups(t: Thresholds): RuleGroup[] {
  const n = serviceNames(t.evaluation.rate_window);
  const { job } = selectors(t);
  const a = t.alerts;
  const table = 'cluster, job, instance, database, schema, table';
  const hintWindow = t.evaluation.rollup_window;
  const live = defined([
    buildAlert(t, 'CrmPostgresDown', {
      expr: `crm_pg_up{${job}} == 0`,
      summary: 'The exporter cannot read PostgreSQL.',
      description:
        'crm-exporter {{ $labels.instance }} (job {{ $labels.job }}) has not been able to query PostgreSQL: connection refused, timeout, authentication or a failing query (see the exporter log).',
    }),
    buildAlert(t, 'CrmPostgresConnectionsNearMax', {
      expr: `${n.pgConnectionsRatio} > ${num(a.CrmPostgresConnectionsNearMax.threshold)}`,
      summary: 'PostgreSQL client connections are close to max_connections.',
      description: `PostgreSQL seen by {{ $labels.instance }} uses {{ $value | humanizePercentage }} of max_connections (threshold ${num(a.CrmPostgresConnectionsNearMax.threshold * 100)} %).`,
    }),
    buildAlert(t, 'CrmPostgresCacheHitRatioLow', {
      expr: `${n.pgCacheHitRatio} < ${num(a.CrmPostgresCacheHitRatioLow.threshold)}\nand on (cluster, job, instance, database) ${n.pgBlocks} >= ${num(a.CrmPostgresCacheHitRatioLow.min_blocks_per_second)}`,
      summary: 'PostgreSQL reads many blocks from disk instead of shared buffers.',
      description: `Database {{ $labels.database }} ({{ $labels.instance }}) found only {{ $value | humanizePercentage }} of its blocks in shared buffers over ${t.evaluation.rate_window}.`,
    }),
    buildAlert(t, 'CrmPostgresDeadlocks', {
      expr: `increase(crm_pg_deadlocks_total{${job}}[${a.CrmPostgresDeadlocks.window}]) > 0`,
      summary: 'PostgreSQL detected deadlocks.',
      description: `Database {{ $labels.database }} ({{ $labels.instance }}) had {{ $value | printf "%.0f" }} deadlocks over ${a.CrmPostgresDeadlocks.window}: transactions were aborted.`,
    }),
    buildAlert(t, 'CrmPostgresLongTransaction', {
      expr: `crm_pg_longest_transaction_seconds{${job}} > ${num(a.CrmPostgresLongTransaction.threshold)}`,
      summary: 'A PostgreSQL transaction has been open for a long time.',
      description: `The oldest transaction in database {{ $labels.database }} ({{ $labels.instance }}) has been open for {{ $value | humanizeDuration }}: it holds locks and keeps vacuum from cleaning up.`,
    }),
    buildAlert(t, 'CrmPostgresBlockedSessions', {
      expr: `crm_pg_blocked_sessions{${job}} > ${num(a.CrmPostgresBlockedSessions.threshold)}`,
      summary: 'PostgreSQL sessions are waiting for locks.',
      description: `{{ $value }} sessions in database {{ $labels.database }} ({{ $labels.instance }}) wait for a heavyweight lock.`,
    }),
    buildAlert(t, 'CrmPostgresReplicationLag', {
      expr: `crm_pg_replication_lag_seconds{${job}} > ${num(a.CrmPostgresReplicationLag.threshold)}`,
      summary: 'The PostgreSQL replica lags behind its primary.',
      description: `The replica seen by {{ $labels.instance }} replays WAL {{ $value | humanizeDuration }} behind the primary.`,
    }),
    buildAlert(t, 'CrmPostgresDeadRows', {
      expr: `crm_pg_table_dead_rows{${job}} >= ${num(a.CrmPostgresDeadRows.min_dead_rows)}\nand on (${table})\n(\n  crm_pg_table_dead_rows{${job}}\n  / (crm_pg_table_live_rows{${job}} + crm_pg_table_dead_rows{${job}} > 0)\n) > ${num(a.CrmPostgresDeadRows.threshold)}\nand on (${table})\n(time() - crm_pg_table_last_autovacuum_timestamp_seconds{${job}}) > ${num(durationSeconds(a.CrmPostgresDeadRows.autovacuum_age))}`,
      summary: 'Dead rows pile up in a PostgreSQL table that autovacuum has not cleaned.',
      description: `Table {{ $labels.schema }}.{{ $labels.table }} in database {{ $labels.database }} has {{ $value | printf "%.0f" }} dead rows (over ${num(a.CrmPostgresDeadRows.threshold * 100)} % of its rows) and no autovacuum for ${a.CrmPostgresDeadRows.autovacuum_age}.`,
    }),
  ]);
  // The optimisation hints read hour-long rates over per-table series: evaluated at the slow interval.
  const hints = defined([
    buildAlert(t, 'CrmPostgresSeqScanHeavyTable', {
      expr: `(\n  sum by (${table}) (rate(crm_pg_table_seq_scans_total{${job}}[${hintWindow}]))\n  / (\n    sum by (${table}) (rate(crm_pg_table_seq_scans_total{${job}}[${hintWindow}]))\n    + sum by (${table}) (rate(crm_pg_table_index_scans_total{${job}}[${hintWindow}]))\n    > 0\n  )\n) > ${num(a.CrmPostgresSeqScanHeavyTable.threshold)}\nand on (${table}) crm_pg_table_live_rows{${job}} >= ${num(a.CrmPostgresSeqScanHeavyTable.min_live_rows)}\nand on (${table}) sum by (${table}) (rate(crm_pg_table_seq_rows_read_total{${job}}[${hintWindow}])) >= ${num(a.CrmPostgresSeqScanHeavyTable.min_seq_rows_per_second)}`,
      summary: 'A large PostgreSQL table is read mostly by sequential scans: add an index.',
      description: `Table {{ $labels.schema }}.{{ $labels.table }} in database {{ $labels.database }} answered {{ $value | humanizePercentage }} of its scans over ${hintWindow} by reading the whole table: add an index for the queries that filter it.`,
    }),
    buildAlert(t, 'CrmPostgresIndexUnused', {
      // Two points, not a range: `increase(x[2w])` over every index would read two weeks of samples each time.
      expr: `(\n  crm_pg_index_scans_total{${job}}\n  - crm_pg_index_scans_total{${job}} offset ${a.CrmPostgresIndexUnused.unused_for}\n) == 0\nand on (cluster, job, instance, database, schema, table, index) crm_pg_index_size_bytes{${job}} >= ${num(a.CrmPostgresIndexUnused.min_size_bytes)}`,
      summary: 'A PostgreSQL index has not been used for weeks: a candidate to drop.',
      description: `Index {{ $labels.index }} on {{ $labels.schema }}.{{ $labels.table }} in database {{ $labels.database }} had no scan for ${a.CrmPostgresIndexUnused.unused_for} but still costs every write.`,
    }),
  ]);
  return [
    ...(live.length > 0 ? [{ name: 'crm-exporter.postgres.alerts', rules: live }] : []),
    ...(hints.length > 0
      ? [{ name: 'crm-exporter.postgres-hints.alerts', interval: t.evaluation.slow_interval, rules: hints }]
      : []),
  ];
}

/** Redis alerts on what the exporter's redis collector serves (crm_redis_*). */
export function redisAlertGroup(t: Thresholds): RuleGroup | undefined {
  const n = serviceNames(t.evaluation.rate_window);
  const { job } = selectors(t);
  const a = t.alerts;
  const w = t.evaluation.rate_window;
  const rules = defined([
    buildAlert(t, 'CrmRedisDown', {
      expr: `crm_redis_up{${job}} == 0`,
      summary: 'The exporter cannot read Redis.',
      description:
        'crm-exporter {{ $labels.instance }} (job {{ $labels.job }}) has not been able to read INFO from Redis: the CRM cache and locks are likely unavailable too.',
    }),
    buildAlert(t, 'CrmRedisHitRatioLow', {
      expr: `${n.redisHitRatio} < ${num(a.CrmRedisHitRatioLow.threshold)}\nand on (cluster, job, instance) ${n.redisLookups} >= ${num(a.CrmRedisHitRatioLow.min_lookups_per_second)}`,
      summary: 'Redis lookups mostly miss: the cache-aside is not working.',
      description: `Only {{ $value | humanizePercentage }} of the Redis key lookups seen by {{ $labels.instance }} found their key over ${w}: reads fall through to PostgreSQL.`,
    }),
    buildAlert(t, 'CrmRedisMemoryNearMax', {
      expr: `${n.redisMemoryRatio} > ${num(a.CrmRedisMemoryNearMax.threshold)}`,
      summary: 'Redis memory is close to maxmemory.',
      description: `Redis seen by {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its maxmemory: evictions or write errors follow.`,
    }),
    buildAlert(t, 'CrmRedisEvictions', {
      expr: `rate(crm_redis_evicted_keys_total{${job}}[${w}]) > ${num(a.CrmRedisEvictions.threshold)}`,
      summary: 'Redis keeps evicting keys to stay under maxmemory.',
      description: `Redis seen by {{ $labels.instance }} evicts {{ $value | printf "%.2f" }} keys/s: cached customers and leases are dropped early.`,
    }),
    buildAlert(t, 'CrmRedisRejectedConnections', {
      expr: `increase(crm_redis_rejected_connections_total{${job}}[${a.CrmRedisRejectedConnections.window}]) > 0`,
      summary: 'Redis refused client connections (maxclients reached).',
      description: `Redis seen by {{ $labels.instance }} rejected {{ $value | printf "%.0f" }} connections over ${a.CrmRedisRejectedConnections.window}.`,
    }),
  ]);
  return rules.length > 0 ? { name: 'crm-exporter.redis.alerts', rules } : undefined;
}
