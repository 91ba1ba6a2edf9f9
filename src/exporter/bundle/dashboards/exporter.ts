import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { durationSeconds } from '../prom-duration.js';
import { serviceNames } from '../rules/recording.js';
import type { Thresholds } from '../thresholds-schema.js';
import { alertSteps } from './alert-view.js';
import { buildDashboard, JOB_INSTANCE as P } from './dashboard.js';
import { row, statPanel, timeseriesPanel } from './panels.js';

const rate = (metric: string) => `rate(${metric}{${P}}[$__rate_interval])`;

/** The exporter itself: its log pipeline, its collectors, its scrapes and its process. */
export function exporterDashboard(t: Thresholds, source: string): Dashboard {
  const n = serviceNames(t.evaluation.rate_window);
  const a = t.alerts;
  const items = [
    row('Health'),
    statPanel({
      title: 'Scraped',
      description: "Prometheus's up for the exporter: red where CrmExporterDown fires (after its for).",
      unit: 'none',
      queries: [{ expr: `up{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmExporterDown', 'below', 1),
      width: 6,
    }),
    statPanel({
      title: 'Collectors succeeding',
      description:
        'Per collector, 1 when it finished in time and without error in the last scrape: red where CrmCollectorFailing fires.',
      unit: 'none',
      queries: [{ expr: `crm_scrape_collector_success{${P}}`, legend: '{{collector}}' }],
      thresholds: alertSteps(t, 'CrmCollectorFailing', 'below', 1),
      width: 6,
    }),
    statPanel({
      title: 'Parse error ratio',
      description: `Share of log lines that failed to parse over ${t.evaluation.rate_window}: red where CrmLogParseErrors fires.`,
      unit: 'percentunit',
      decimals: 2,
      queries: [{ expr: `${n.parseErrorRatio}{${P}}`, legend: '{{log}}' }],
      thresholds: alertSteps(t, 'CrmLogParseErrors', 'above', a.CrmLogParseErrors.threshold),
      width: 6,
    }),
    statPanel({
      title: 'Since last log line',
      description: `Seconds since the exporter last read a line. CrmLogStale fires past ${a.CrmLogStale.after} while the CRM still answers its probes.`,
      unit: 's',
      queries: [{ expr: `time() - crm_log_last_read_timestamp_seconds{${P}}`, legend: '{{log}}' }],
      thresholds: alertSteps(t, 'CrmLogStale', 'above', durationSeconds(a.CrmLogStale.after)),
      width: 6,
    }),
    row('Log pipeline'),
    timeseriesPanel({
      title: 'Lines read',
      description: 'Access-log lines read per second, good or bad.',
      unit: 'cps',
      queries: [{ expr: `sum by (log) (${rate('crm_log_lines_total')})`, legend: '{{log}}' }],
    }),
    timeseriesPanel({
      title: 'Parse errors by reason',
      description:
        'Lines per second not counted as requests, by reason (invalid_json, format_mismatch, line_too_long ...).',
      unit: 'cps',
      queries: [{ expr: `sum by (log, reason) (${rate('crm_log_parse_errors_total')})`, legend: '{{log}} {{reason}}' }],
    }),
    timeseriesPanel({
      title: 'Lag',
      description: 'Bytes written to the log but not yet processed by the exporter.',
      unit: 'bytes',
      queries: [{ expr: `crm_log_lag_bytes{${P}}`, legend: '{{log}}' }],
    }),
    timeseriesPanel({
      title: 'Rotations and route overflow',
      description:
        'Log rotations the tailer handled, and lines per second counted as route __other__ because max_routes was reached (CrmLogRouteOverflow).',
      unit: 'short',
      queries: [
        {
          expr: `sum by (log) (increase(crm_log_rotations_total{${P}}[$__rate_interval]))`,
          legend: '{{log}} rotations',
        },
        { expr: `sum by (log) (${rate('crm_log_routes_overflow_total')})`, legend: '{{log}} overflow lines/s' },
      ],
    }),
    row('Scrapes'),
    timeseriesPanel({
      title: 'Collector duration',
      description: 'Wall time of each scrape-time collector (postgres, redis, probe) in the last scrape.',
      unit: 's',
      queries: [{ expr: `crm_scrape_collector_duration_seconds{${P}}`, legend: '{{collector}}' }],
    }),
    timeseriesPanel({
      title: 'Collector success',
      description: 'Per collector, 1 when the last scrape finished in time and without error.',
      unit: 'none',
      min: 0,
      max: 1,
      queries: [{ expr: `crm_scrape_collector_success{${P}}`, legend: '{{collector}}' }],
    }),
    timeseriesPanel({
      title: 'Scrape duration',
      description: 'How long Prometheus took to scrape the exporter (scrape_duration_seconds).',
      unit: 's',
      queries: [{ expr: `scrape_duration_seconds{${P}}`, legend: '{{instance}}' }],
    }),
    row('Process'),
    timeseriesPanel({
      title: 'Memory',
      description: 'Resident memory of the exporter process and the V8 heap in use.',
      unit: 'bytes',
      width: 8,
      queries: [
        { expr: `process_resident_memory_bytes{${P}}`, legend: 'resident {{instance}}' },
        { expr: `nodejs_heap_size_used_bytes{${P}}`, legend: 'heap used {{instance}}' },
      ],
    }),
    timeseriesPanel({
      title: 'CPU',
      description: 'CPU time of the exporter process: 100 % is one core busy all the time.',
      unit: 'percentunit',
      width: 8,
      queries: [{ expr: rate('process_cpu_seconds_total'), legend: '{{instance}}' }],
    }),
    timeseriesPanel({
      title: 'Event-loop lag',
      description: "p99 delay of the exporter's Node.js event loop: high values delay scrapes and log reading.",
      unit: 's',
      width: 8,
      queries: [{ expr: `nodejs_eventloop_lag_p99_seconds{${P}}`, legend: '{{instance}}' }],
    }),
  ];
  return buildDashboard(
    {
      uid: 'crm-exporter',
      summary: 'The exporter itself: log pipeline, collectors, scrapes and process.',
      tags: ['exporter'],
      items,
    },
    source,
  );
}
