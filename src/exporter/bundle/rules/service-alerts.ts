import { durationSeconds } from '../prom-duration.js';
import type { Thresholds } from '../thresholds-schema.js';
import { buildAlert, defined } from './alert.js';
import { num, selectors } from './promql.js';
import { serviceNames } from './recording.js';
import type { RuleGroup } from './types.js';

/** Alerts on the four numbers, the exporter target and the log pipeline. */
export function serviceAlertGroup(t: Thresholds): RuleGroup {
  const n = serviceNames(t.evaluation.rate_window);
  const s = selectors(t);
  const a = t.alerts;
  const w = t.evaluation.rate_window;
  const latency = (name: 'CrmLatencyP95High' | 'CrmLatencyP99High', q: 'p95' | 'p99') =>
    buildAlert(t, name, {
      expr: `${n.routeQuantile(q)} > ${num(a[name].threshold)}\nand on (cluster, job, log, route) ${n.routeRequests} >= ${num(a[name].min_rps)}`,
      summary: `CRM ${q} response time is above its threshold on a route.`,
      description: `${q} response time of {{ $labels.route }} (log {{ $labels.log }}, job {{ $labels.job }}) is {{ $value | humanizeDuration }} over ${w}, above ${num(a[name].threshold)} s.`,
    });
  return {
    name: 'crm-exporter.service.alerts',
    rules: defined([
      buildAlert(t, 'CrmErrorRatioHigh', {
        expr: `${n.errorRatio} > ${num(a.CrmErrorRatioHigh.threshold)}\nand on (cluster, job, log) ${n.requests} >= ${num(a.CrmErrorRatioHigh.min_rps)}`,
        summary: 'The CRM answers too many requests with server errors (5xx).',
        description: `{{ $value | humanizePercentage }} of the requests in log {{ $labels.log }} (job {{ $labels.job }}) answered 5xx over ${w} (threshold ${num(a.CrmErrorRatioHigh.threshold * 100)} %).`,
      }),
      latency('CrmLatencyP95High', 'p95'),
      latency('CrmLatencyP99High', 'p99'),
      buildAlert(t, 'CrmThroughputBelowFloor', {
        expr: `${n.requests} < ${num(a.CrmThroughputBelowFloor.min_rps)}`,
        summary: 'CRM throughput is below its configured floor.',
        description: `Log {{ $labels.log }} (job {{ $labels.job }}) sees {{ $value | printf "%.2f" }} req/s over ${w}, below the floor of ${num(a.CrmThroughputBelowFloor.min_rps)} req/s.`,
      }),
      buildAlert(t, 'CrmAvailabilityBelowObjective', {
        expr: `avg_over_time(${n.probeAvailability}[${a.CrmAvailabilityBelowObjective.window}]) < ${num(a.CrmAvailabilityBelowObjective.threshold)}`,
        summary: 'The CRM health endpoint has failed too many probes.',
        description: `Only {{ $value | humanizePercentage }} of the health probes of job {{ $labels.job }} succeeded over ${a.CrmAvailabilityBelowObjective.window} (objective ${num(a.CrmAvailabilityBelowObjective.threshold * 100)} %).`,
      }),
      t.apdex.enabled
        ? buildAlert(t, 'CrmApdexLow', {
            expr: `${n.apdex} < ${num(a.CrmApdexLow.threshold)}\nand on (cluster, job, log) ${n.requests} >= ${num(a.CrmApdexLow.min_rps)}`,
            summary: 'CRM users are not satisfied with response times (Apdex low).',
            description: `Apdex (T = ${num(t.apdex.t)} s) of log {{ $labels.log }} (job {{ $labels.job }}) is {{ $value | printf "%.2f" }} over ${w}, below ${num(a.CrmApdexLow.threshold)}.`,
          })
        : undefined,
      buildAlert(t, 'CrmExporterDown', {
        expr: `up{${s.job}} == 0`,
        summary: 'Prometheus cannot scrape the crm-exporter.',
        description:
          'Target {{ $labels.instance }} of job {{ $labels.job }} has failed its scrapes: every CRM number from it is missing.',
      }),
      buildAlert(t, 'CrmLogStale', {
        // The probe itself writes a line per scrape, so a log that stops growing while probes succeed is not quiet
        // traffic: the exporter reads the wrong file, or the CRM writes somewhere else.
        expr: `(\n  time() - crm_log_last_read_timestamp_seconds{${s.log}} > ${num(durationSeconds(a.CrmLogStale.after))}\n  or\n  crm_log_lines_total{${s.log}} == 0\n  and on (cluster, job, instance) (time() - process_start_time_seconds{${s.job}} > ${num(durationSeconds(a.CrmLogStale.after))})\n)\nand on (cluster, job, instance) (crm_probe_success{${s.job}} == 1)`,
        summary: 'The exporter reads no new access-log lines while the CRM answers its probes.',
        description: `No new line in log {{ $labels.log }} on {{ $labels.instance }} (job {{ $labels.job }}) for over ${a.CrmLogStale.after}, although the CRM answers health probes.`,
      }),
      buildAlert(t, 'CrmLogParseErrors', {
        expr: `${n.parseErrorRatio} > ${num(a.CrmLogParseErrors.threshold)}`,
        summary: 'Many access-log lines cannot be parsed.',
        description: `{{ $value | humanizePercentage }} of the lines of log {{ $labels.log }} on {{ $labels.instance }} failed to parse over ${w}: check crm_log_parse_errors_total by reason.`,
      }),
      buildAlert(t, 'CrmLogRouteOverflow', {
        expr: `increase(crm_log_routes_overflow_total{${s.log}}[${a.CrmLogRouteOverflow.window}]) > 0`,
        summary: 'Requests are counted under route __other__ because the route limit was reached.',
        description: `{{ $value | printf "%.0f" }} lines of log {{ $labels.log }} on {{ $labels.instance }} went to route="__other__" over ${a.CrmLogRouteOverflow.window}: add route templates or raise max_routes.`,
      }),
      buildAlert(t, 'CrmCollectorFailing', {
        expr: `crm_scrape_collector_success{${s.job}} == 0`,
        summary: 'A scrape-time collector of the exporter keeps failing.',
        description:
          'Collector {{ $labels.collector }} on {{ $labels.instance }} (job {{ $labels.job }}) failed its last scrapes: its metrics are absent.',
      }),
      buildAlert(t, 'CrmLockContention', {
        expr: `${n.lockContention} > ${num(a.CrmLockContention.threshold)}\nand on (cluster, job, log) sum by (cluster, job, log) (${n.locks}) >= ${num(a.CrmLockContention.min_rps)}`,
        summary: 'Many CRM lock acquisitions are contended or time out.',
        description: `{{ $value | humanizePercentage }} of the lock acquisitions in log {{ $labels.log }} (job {{ $labels.job }}) were contended or timed out over ${w}.`,
      }),
    ]),
  };
}
