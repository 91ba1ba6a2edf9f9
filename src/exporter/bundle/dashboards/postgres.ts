import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { num } from '../rules/promql.js';
import { serviceNames } from '../rules/recording.js';
import type { Thresholds } from '../thresholds-schema.js';
import { alertSteps, judged } from './alert-view.js';
import { buildDashboard, JOB_INSTANCE as P, type DashboardSpec } from './dashboard.js';
import { row, statPanel, tablePanel, timeseriesPanel } from './panels.js';

const rate = (metric: string) => `rate(${metric}{${P}}[$__rate_interval])`;
const TABLE = 'database, schema, table';
const STATEMENT = 'job, instance, database, queryid';

/** PostgreSQL as the exporter's postgres collector sees it (crm_pg_*), with the optimisation hints as tables. */
export function postgresDashboard(t: Thresholds, source: string): Dashboard {
  const n = serviceNames(t.evaluation.rate_window);
  const a = t.alerts;
  const items: DashboardSpec['items'] = [
    row('Health'),
    statPanel({
      title: 'PostgreSQL readable',
      description: '1 when the exporter read PostgreSQL in its last scrape: red where CrmPostgresDown fires.',
      unit: 'none',
      queries: [{ expr: `crm_pg_up{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmPostgresDown', 'below', 1),
    }),
    statPanel({
      title: 'Connections used',
      description: 'Client sessions as a share of max_connections: red where CrmPostgresConnectionsNearMax fires.',
      unit: 'percentunit',
      queries: [{ expr: `${n.pgConnectionsRatio}{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmPostgresConnectionsNearMax', 'above', a.CrmPostgresConnectionsNearMax.threshold),
    }),
    statPanel({
      title: 'Cache hit ratio',
      description: `Blocks found in shared buffers over ${t.evaluation.rate_window}, per database with at least ${num(a.CrmPostgresCacheHitRatioLow.min_blocks_per_second)} blocks/s: red where CrmPostgresCacheHitRatioLow fires.`,
      unit: 'percentunit',
      decimals: 1,
      queries: [
        {
          expr: judged(
            t,
            'CrmPostgresCacheHitRatioLow',
            `${n.pgCacheHitRatio}{${P}}`,
            'job, instance, database',
            `${n.pgBlocks}{${P}}`,
            a.CrmPostgresCacheHitRatioLow.min_blocks_per_second,
          ),
          legend: '{{database}}',
        },
      ],
      thresholds: alertSteps(t, 'CrmPostgresCacheHitRatioLow', 'below', a.CrmPostgresCacheHitRatioLow.threshold),
    }),
    statPanel({
      title: 'Longest transaction',
      description: 'Age of the oldest open transaction, per database: red where CrmPostgresLongTransaction fires.',
      unit: 's',
      queries: [{ expr: `crm_pg_longest_transaction_seconds{${P}}`, legend: '{{database}}' }],
      thresholds: alertSteps(t, 'CrmPostgresLongTransaction', 'above', a.CrmPostgresLongTransaction.threshold),
    }),
    statPanel({
      title: 'Blocked sessions',
      description: 'Sessions waiting for a heavyweight lock, per database: red where CrmPostgresBlockedSessions fires.',
      unit: 'none',
      queries: [{ expr: `crm_pg_blocked_sessions{${P}}`, legend: '{{database}}' }],
      thresholds: alertSteps(t, 'CrmPostgresBlockedSessions', 'above', a.CrmPostgresBlockedSessions.threshold),
    }),
    statPanel({
      title: 'Replication lag',
      description:
        'How far a replica replays behind its primary (no data on a primary): red where CrmPostgresReplicationLag fires.',
      unit: 's',
      queries: [{ expr: `crm_pg_replication_lag_seconds{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmPostgresReplicationLag', 'above', a.CrmPostgresReplicationLag.threshold),
    }),
    row('Activity'),
    timeseriesPanel({
      title: 'Connections by state',
      description: 'Client sessions by pg_stat_activity state, stacked, against max_connections.',
      unit: 'short',
      stack: true,
      queries: [
        { expr: `sum by (state) (crm_pg_connections{${P}})`, legend: '{{state}}' },
        { expr: `max(crm_pg_max_connections{${P}})`, legend: 'max_connections' },
      ],
      series: {
        max_connections: [
          { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
          { id: 'custom.fillOpacity', value: 0 },
        ],
      },
    }),
    timeseriesPanel({
      title: 'Transactions',
      description: 'Commits and rollbacks per second, by database.',
      unit: 'ops',
      queries: [
        { expr: `sum by (database) (${rate('crm_pg_xact_commits_total')})`, legend: '{{database}} commits' },
        { expr: `sum by (database) (${rate('crm_pg_xact_rollbacks_total')})`, legend: '{{database}} rollbacks' },
      ],
    }),
    timeseriesPanel({
      title: 'Cache hit ratio by database',
      description: `Share of block accesses served from shared buffers over ${t.evaluation.rate_window}. Dashed: the threshold of CrmPostgresCacheHitRatioLow.`,
      unit: 'percentunit',
      queries: [{ expr: `${n.pgCacheHitRatio}{${P}}`, legend: '{{database}}' }],
      thresholds: alertSteps(t, 'CrmPostgresCacheHitRatioLow', 'below', a.CrmPostgresCacheHitRatioLow.threshold),
    }),
    timeseriesPanel({
      title: 'Rows',
      description: 'Rows returned, fetched, inserted, updated and deleted per second (pg_stat_database).',
      unit: 'ops',
      queries: [{ expr: `sum by (op) (${rate('crm_pg_rows_total')})`, legend: '{{op}}' }],
    }),
    row('Locks, transactions and vacuum'),
    timeseriesPanel({
      title: 'Locks',
      description: "Locks by mode, granted or waiting (the exporter's own excluded), and sessions blocked on a lock.",
      unit: 'short',
      queries: [
        { expr: `sum by (mode, granted) (crm_pg_locks{${P}})`, legend: '{{mode}} granted={{granted}}' },
        { expr: `sum(crm_pg_blocked_sessions{${P}})`, legend: 'blocked sessions' },
      ],
    }),
    timeseriesPanel({
      title: 'Deadlocks',
      description: 'Deadlocks per second PostgreSQL detected, by database (each aborted a transaction).',
      unit: 'ops',
      queries: [{ expr: `sum by (database) (${rate('crm_pg_deadlocks_total')})`, legend: '{{database}}' }],
    }),
    timeseriesPanel({
      title: 'Longest transaction by database',
      description: 'Age of the oldest open transaction. Dashed: the threshold of CrmPostgresLongTransaction.',
      unit: 's',
      queries: [{ expr: `crm_pg_longest_transaction_seconds{${P}}`, legend: '{{database}}' }],
      thresholds: alertSteps(t, 'CrmPostgresLongTransaction', 'above', a.CrmPostgresLongTransaction.threshold),
    }),
    timeseriesPanel({
      title: 'Dead rows',
      description: `Dead rows per table awaiting vacuum. Dashed: ${num(a.CrmPostgresDeadRows.min_dead_rows)}, the least CrmPostgresDeadRows judges.`,
      unit: 'short',
      queries: [{ expr: `crm_pg_table_dead_rows{${P}}`, legend: '{{database}} {{schema}}.{{table}}' }],
      thresholds: alertSteps(t, 'CrmPostgresDeadRows', 'above', a.CrmPostgresDeadRows.min_dead_rows),
    }),
    ...hintTables(t),
  ];
  return buildDashboard(
    {
      uid: 'crm-postgres',
      summary: 'PostgreSQL under the CRM: connections, transactions, cache, locks, tables, indexes and statements.',
      tags: ['postgres'],
      items,
    },
    source,
  );
}

function hintTables(t: Thresholds): DashboardSpec['items'] {
  const a = t.alerts;
  const seq = `sum by (${TABLE}) (${rate('crm_pg_table_seq_scans_total')})`;
  const idx = `sum by (${TABLE}) (${rate('crm_pg_table_index_scans_total')})`;
  const top = `topk(10, sum by (${STATEMENT}) (${rate('crm_pg_statement_seconds_total')}))`;
  return [
    row('Optimisation hints'),
    tablePanel({
      title: 'Tables by sequential-scan share',
      description: `Share of a table's scans that read the whole table. A large table (live rows) with a high share and many rows read sequentially misses an index; CrmPostgresSeqScanHeavyTable reports it from ${num(a.CrmPostgresSeqScanHeavyTable.threshold * 100)} % over ${t.evaluation.rollup_window}.`,
      unit: 'percentunit',
      width: 24,
      queries: [
        { expr: `${seq}\n/ (${seq} + ${idx} > 0)` },
        { expr: `sum by (${TABLE}) (${rate('crm_pg_table_seq_rows_read_total')})` },
        { expr: `sum by (${TABLE}) (crm_pg_table_live_rows{${P}})` },
      ],
      thresholds: alertSteps(t, 'CrmPostgresSeqScanHeavyTable', 'above', a.CrmPostgresSeqScanHeavyTable.threshold),
      columns: { 'Value #A': 'sequential-scan share', 'Value #B': 'rows read sequentially/s', 'Value #C': 'live rows' },
      units: { 'rows read sequentially/s': 'short', 'live rows': 'short' },
      sortBy: 'sequential-scan share',
    }),
    tablePanel({
      title: 'Indexes by use (unused first)',
      description: `Index scans per second and index size. An index without scans still costs every write; CrmPostgresIndexUnused reports one of at least ${num(a.CrmPostgresIndexUnused.min_size_bytes)} bytes unused for ${a.CrmPostgresIndexUnused.unused_for}.`,
      unit: 'ops',
      queries: [
        { expr: `sum by (${TABLE}, index) (${rate('crm_pg_index_scans_total')})` },
        { expr: `sum by (${TABLE}, index) (crm_pg_index_size_bytes{${P}})` },
      ],
      columns: { 'Value #A': 'scans/s', 'Value #B': 'size' },
      units: { size: 'bytes' },
      sortBy: 'scans/s',
      descending: false,
    }),
    tablePanel({
      title: 'Dead rows by table',
      description:
        'Dead rows, their share of the table, and the time since the last autovacuum (empty: never autovacuumed).',
      unit: 'short',
      queries: [
        { expr: `sum by (${TABLE}) (crm_pg_table_dead_rows{${P}})` },
        {
          expr: `sum by (${TABLE}) (crm_pg_table_dead_rows{${P}})\n/ (sum by (${TABLE}) (crm_pg_table_live_rows{${P}} + crm_pg_table_dead_rows{${P}}) > 0)`,
        },
        { expr: `time() - max by (${TABLE}) (crm_pg_table_last_autovacuum_timestamp_seconds{${P}} > 0)` },
      ],
      columns: { 'Value #A': 'dead rows', 'Value #B': 'dead share', 'Value #C': 'since autovacuum' },
      units: { 'dead share': 'percentunit', 'since autovacuum': 's' },
      sortBy: 'dead rows',
    }),
    tablePanel({
      title: 'Top statements by time',
      description:
        'The 10 statements (pg_stat_statements) that take the most execution and planning time, with their text. Time per second: 100 % is one backend busy all the time.',
      unit: 'percentunit',
      width: 24,
      queries: [
        { expr: `${top}\n* on (${STATEMENT}) group_left (query)\ncrm_pg_statement_info{${P}}` },
        { expr: `sum by (${STATEMENT}) (${rate('crm_pg_statement_calls_total')})\nand on (${STATEMENT}) ${top}` },
        {
          expr: `sum by (${STATEMENT}) (${rate('crm_pg_statement_seconds_total')})\n/ (sum by (${STATEMENT}) (${rate('crm_pg_statement_calls_total')}) > 0)\nand on (${STATEMENT}) ${top}`,
        },
      ],
      columns: {
        'Value #A': 'time per second',
        'Value #B': 'calls/s',
        'Value #C': 'mean per call',
        job: '__hide__',
        instance: '__hide__',
      },
      units: { 'calls/s': 'ops', 'mean per call': 's' },
      sortBy: 'time per second',
    }),
  ];
}
