import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { num, quote } from '../rules/promql.js';
import { serviceNames } from '../rules/recording.js';
import type { Thresholds } from '../thresholds-schema.js';
import { alertSteps, judged } from './alert-view.js';
import { buildDashboard, JOB, JOB_INSTANCE, singleVariable } from './dashboard.js';
import { neutral, row, statPanel, timeseriesPanel } from './panels.js';

/** One route end to end: traffic, errors, latency, where its time goes, its cache and lock outcomes. */
export function routeDashboard(t: Thresholds, source: string): Dashboard {
  const n = serviceNames(t.evaluation.rate_window);
  const a = t.alerts;
  const w = t.evaluation.rate_window;
  // Recorded per-route series carry job, log and route; raw series also instance (and the service's logs only).
  const rec = `${JOB}, route="$route"`;
  const raw = `${JOB_INSTANCE}, log=~${quote(t.selectors.log)}, route="$route"`;
  const rate = (metric: string) => `rate(${metric}{${raw}}[$__rate_interval])`;
  const latency = (q: 'p95' | 'p99', name: 'CrmLatencyP95High' | 'CrmLatencyP99High') =>
    statPanel({
      title: `Response time ${q}`,
      description: `${q} of this route over ${w}, shown from ${num(a[name].min_rps)} req/s: red where ${name} fires for it.`,
      unit: 's',
      queries: [
        {
          expr: judged(
            t,
            name,
            `${n.routeQuantile(q)}{${rec}}`,
            'job, log, route',
            `${n.routeRequests}{${rec}}`,
            a[name].min_rps,
          ),
          legend: '{{log}}',
        },
      ],
      thresholds: alertSteps(t, name, 'above', a[name].threshold),
      width: 6,
    });
  const quantile = (q: 'p50' | 'p95' | 'p99') => ({ expr: `${n.routeQuantile(q)}{${rec}}`, legend: q });
  const items = [
    row('$route'),
    statPanel({
      title: 'Requests',
      description: `Requests per second to this route over ${w}.`,
      unit: 'reqps',
      queries: [{ expr: `${n.routeRequests}{${rec}}`, legend: '{{log}}' }],
      thresholds: neutral,
      width: 6,
    }),
    statPanel({
      title: 'Error ratio',
      description: `Share of this route's requests answered 5xx over ${w} (CrmErrorRatioHigh judges the whole log, not one route).`,
      unit: 'percentunit',
      decimals: 2,
      queries: [{ expr: `${n.routeErrorRatio}{${rec}}`, legend: '{{log}}' }],
      thresholds: neutral,
      width: 6,
    }),
    latency('p95', 'CrmLatencyP95High'),
    latency('p99', 'CrmLatencyP99High'),
    timeseriesPanel({
      title: 'Requests by status',
      description: 'Requests per second to this route by HTTP status code, stacked.',
      unit: 'reqps',
      stack: true,
      queries: [{ expr: `sum by (status) (${rate('crm_http_requests_total')})`, legend: '{{status}}' }],
    }),
    timeseriesPanel({
      title: 'Requests by method',
      description: 'Requests per second to this route by HTTP method.',
      unit: 'reqps',
      queries: [{ expr: `sum by (method) (${rate('crm_http_requests_total')})`, legend: '{{method}}' }],
    }),
    timeseriesPanel({
      title: 'Latency',
      description: `p50, p95 and p99 response time of this route over ${w}. Dashed: the thresholds of CrmLatencyP95High and CrmLatencyP99High.`,
      unit: 's',
      queries: [quantile('p50'), quantile('p95'), quantile('p99')],
      thresholds: [
        ...alertSteps(t, 'CrmLatencyP95High', 'above', a.CrmLatencyP95High.threshold),
        ...alertSteps(t, 'CrmLatencyP99High', 'above', a.CrmLatencyP99High.threshold).slice(1),
      ],
    }),
    timeseriesPanel({
      title: 'Error ratio and Apdex',
      description: `Share of 5xx answers and, when Apdex is enabled, the route's Apdex (T = ${num(t.apdex.t)} s) over ${w}.`,
      unit: 'percentunit',
      min: 0,
      queries: [
        { expr: `${n.routeErrorRatio}{${rec}}`, legend: 'error ratio' },
        ...(t.apdex.enabled ? [{ expr: `${n.routeApdex}{${rec}}`, legend: 'Apdex' }] : []),
      ],
    }),
    timeseriesPanel({
      title: 'Response time by phase',
      description:
        'Mean seconds per request this route spends in each phase (app, db, cache; upstream and network behind nginx), stacked.',
      unit: 's',
      stack: true,
      queries: [
        {
          expr: `sum by (phase) (${rate('crm_http_request_phase_seconds_total')})\n/ on () group_left ()\n(sum(${rate('crm_http_request_duration_seconds_count')}) > 0)`,
          legend: '{{phase}}',
        },
      ],
    }),
    timeseriesPanel({
      title: 'Cache lookups by result',
      description: 'Cache lookups per second this route logged, by result (hit, miss, bypass, other).',
      unit: 'ops',
      stack: true,
      queries: [{ expr: `sum by (result) (${rate('crm_cache_lookups_total')})`, legend: '{{result}}' }],
    }),
    timeseriesPanel({
      title: 'Lock acquisitions by result',
      description: 'Lock acquisitions per second this route logged, by result (acquired, contended, timeout, other).',
      unit: 'ops',
      stack: true,
      queries: [{ expr: `sum by (result) (${rate('crm_lock_acquisitions_total')})`, legend: '{{result}}' }],
    }),
    timeseriesPanel({
      title: 'Lock wait per acquisition',
      description: 'Mean seconds this route waited per lock acquisition.',
      unit: 's',
      queries: [
        {
          expr: `sum(${rate('crm_lock_wait_seconds_total')})\n/ (sum(${rate('crm_lock_acquisitions_total')}) > 0)`,
          legend: 'mean wait',
        },
      ],
    }),
    timeseriesPanel({
      title: 'Response bytes',
      description: 'Response body bytes per second this route sent.',
      unit: 'Bps',
      queries: [{ expr: `sum(${rate('crm_http_response_size_bytes_total')})`, legend: 'bytes' }],
    }),
  ];
  return buildDashboard(
    {
      uid: 'crm-route',
      summary: 'One route of the CRM end to end: choose it with the route variable.',
      tags: ['route'],
      variables: [singleVariable('route', `label_values(${n.routeRequests}{${JOB}}, route)`)],
      items,
    },
    source,
  );
}
