import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { baselineNames } from '../rules/baseline.js';
import { num } from '../rules/promql.js';
import { serviceNames } from '../rules/recording.js';
import { currentBurnWindow, enabledSlos, sloNames } from '../rules/slo.js';
import type { Thresholds } from '../thresholds-schema.js';
import { alertGroupsPanel } from './alerts-panel.js';
import { alertSteps, judged } from './alert-view.js';
import { buildDashboard, JOB, type DashboardSpec } from './dashboard.js';
import { row, statPanel, timeseriesPanel } from './panels.js';

/** The CRM at a glance: the four numbers, Apdex, the SLOs, routes, phases, baselines and what is firing. */
export function overviewDashboard(t: Thresholds, source: string): Dashboard {
  const n = serviceNames(t.evaluation.rate_window);
  const a = t.alerts;
  const w = t.evaluation.rate_window;
  const items: DashboardSpec['items'] = [
    row('The four numbers'),
    statPanel({
      title: 'Response time p95 (slowest route)',
      description: `p95 over ${w} of the slowest route with at least ${num(a.CrmLatencyP95High.min_rps)} req/s, per log: red where CrmLatencyP95High fires.`,
      unit: 's',
      queries: [
        {
          expr: `max by (cluster, job, log) (\n${judged(t, 'CrmLatencyP95High', `${n.routeQuantile('p95')}{${JOB}}`, 'job, log, route', `${n.routeRequests}{${JOB}}`, a.CrmLatencyP95High.min_rps)}\n)`,
          legend: '{{log}}',
        },
      ],
      thresholds: alertSteps(t, 'CrmLatencyP95High', 'above', a.CrmLatencyP95High.threshold),
      width: 5,
    }),
    statPanel({
      title: 'Throughput',
      description: `Requests per second over ${w}, per log (health-check routes excluded). Red below the floor of CrmThroughputBelowFloor when that alert is enabled.`,
      unit: 'reqps',
      queries: [{ expr: `${n.requests}{${JOB}}`, legend: '{{log}}' }],
      thresholds: alertSteps(t, 'CrmThroughputBelowFloor', 'below', a.CrmThroughputBelowFloor.min_rps),
      width: 5,
    }),
    statPanel({
      title: 'Error rate',
      description: `Share of requests answered 5xx over ${w}, per log, shown from ${num(a.CrmErrorRatioHigh.min_rps)} req/s: red where CrmErrorRatioHigh fires.`,
      unit: 'percentunit',
      decimals: 2,
      queries: [
        {
          expr: judged(
            t,
            'CrmErrorRatioHigh',
            `${n.errorRatio}{${JOB}}`,
            'job, log',
            `${n.requests}{${JOB}}`,
            a.CrmErrorRatioHigh.min_rps,
          ),
          legend: '{{log}}',
        },
      ],
      thresholds: alertSteps(t, 'CrmErrorRatioHigh', 'above', a.CrmErrorRatioHigh.threshold),
      width: 5,
    }),
    statPanel({
      title: 'Availability',
      description: `Share of successful health probes over ${a.CrmAvailabilityBelowObjective.window}, per job: red where CrmAvailabilityBelowObjective fires.`,
      unit: 'percentunit',
      decimals: 2,
      queries: [
        {
          expr: `avg_over_time(${n.probeAvailability}{${JOB}}[${a.CrmAvailabilityBelowObjective.window}])`,
          legend: '{{job}}',
        },
      ],
      thresholds: alertSteps(t, 'CrmAvailabilityBelowObjective', 'below', a.CrmAvailabilityBelowObjective.threshold),
      width: 5,
    }),
  ];
  if (t.apdex.enabled) {
    items.push(
      statPanel({
        title: 'Apdex',
        description: `Apdex over ${w} with T = ${num(t.apdex.t)} s (satisfied <= T, tolerating <= 4T), per log, shown from ${num(a.CrmApdexLow.min_rps)} req/s: red where CrmApdexLow fires.`,
        unit: 'none',
        decimals: 2,
        queries: [
          {
            expr: judged(
              t,
              'CrmApdexLow',
              `${n.apdex}{${JOB}}`,
              'job, log',
              `${n.requests}{${JOB}}`,
              a.CrmApdexLow.min_rps,
            ),
            legend: '{{log}}',
          },
        ],
        thresholds: alertSteps(t, 'CrmApdexLow', 'below', a.CrmApdexLow.threshold),
      }),
    );
  }
  items.push(...sloPanels(t), ...routePanels(t), ...baselinePanels(t));
  items.push(
    row('Alerts'),
    alertGroupsPanel({
      title: 'Alerts in Alertmanager',
      description:
        'Alerts Alertmanager holds now, grouped as they are notified (silenced and inhibited ones marked). Each links to its runbook section.',
      width: 24,
      height: 8,
    }),
  );
  return buildDashboard(
    {
      uid: 'crm-overview',
      summary: 'The CRM at a glance: response time, throughput, error rate, availability, Apdex and the SLOs.',
      tags: ['overview'],
      items,
    },
    source,
  );
}

function sloPanels(t: Thresholds): DashboardSpec['items'] {
  if (enabledSlos(t).length === 0) return [];
  const s = sloNames(t);
  const burnWindow = currentBurnWindow(t);
  const page = t.slo.page.enabled ? t.slo.page.windows[0] : undefined;
  return [
    row('Service level objectives'),
    statPanel({
      title: 'Error budget remaining',
      description: `Share of the ${t.slo.period} error budget left, per SLO (availability: no 5xx; latency: answered within ${num(t.slo.latency.threshold)} s). Red when the budget is spent.`,
      unit: 'percentunit',
      decimals: 1,
      queries: [{ expr: `${s.budgetRemaining}{${JOB}}`, legend: '{{slo}} ({{log}})' }],
      thresholds: [
        { value: null, color: 'red' },
        { value: 0, color: 'green' },
      ],
      width: 12,
    }),
    statPanel({
      title: 'Burn rate',
      description: `How fast each SLO burns its budget over the last ${burnWindow}: 1 spends exactly the budget in ${t.slo.period}.${page ? ` Red from ${num(page.factor)}, the page tier's factor for ${page.long} (CrmErrorBudgetBurnPage also needs the ${page.short} window).` : ''}`,
      unit: 'suffix:x',
      decimals: 1,
      queries: [{ expr: `${s.burnRate(burnWindow)}{${JOB}}`, legend: '{{slo}} ({{log}})' }],
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'orange' },
        ...(page ? [{ value: page.factor, color: 'red' }] : []),
      ],
      width: 12,
    }),
  ];
}

function routePanels(t: Thresholds): DashboardSpec['items'] {
  const n = serviceNames(t.evaluation.rate_window);
  const a = t.alerts;
  const w = t.evaluation.rate_window;
  const quantile = (q: 'p50' | 'p95' | 'p99') => ({ expr: `${n.routeQuantile(q)}{${JOB}}`, legend: `{{route}} ${q}` });
  return [
    row('Routes'),
    timeseriesPanel({
      title: 'Request rate by route',
      description: `Requests per second over ${w}, by route template (all logs of the selected jobs).`,
      unit: 'reqps',
      queries: [{ expr: `sum by (route) (${n.routeRequests}{${JOB}})`, legend: '{{route}}' }],
    }),
    timeseriesPanel({
      title: 'Error ratio by route',
      description: `Share of a route's requests answered 5xx over ${w}.`,
      unit: 'percentunit',
      queries: [{ expr: `${n.routeErrorRatio}{${JOB}}`, legend: '{{route}}' }],
    }),
    timeseriesPanel({
      title: 'Latency by route',
      description: `p50, p95 and p99 response time over ${w} by route, from the histogram. Dashed: the p95 threshold of CrmLatencyP95High.`,
      unit: 's',
      queries: [quantile('p50'), quantile('p95'), quantile('p99')],
      thresholds: alertSteps(t, 'CrmLatencyP95High', 'above', a.CrmLatencyP95High.threshold),
    }),
    timeseriesPanel({
      title: 'Response time by phase',
      description: `Mean seconds per request spent in each phase over ${w} (app, db, cache from the CRM's log; upstream and network behind nginx), stacked: the stack is the mean response time.`,
      unit: 's',
      stack: true,
      queries: [{ expr: `${n.phaseMean}{${JOB}}`, legend: '{{phase}}' }],
    }),
    timeseriesPanel({
      title: 'Cache hit ratio (from the log)',
      description: `Share of the cache lookups the CRM logged as hits over ${w}.`,
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [{ expr: `${n.cacheHitRatio}{${JOB}}`, legend: '{{log}}' }],
    }),
    timeseriesPanel({
      title: 'Lock contention (from the log)',
      description: `Share of the lock acquisitions the CRM logged as contended or timed out over ${w}. Dashed: the threshold of CrmLockContention.`,
      unit: 'percentunit',
      min: 0,
      queries: [{ expr: `${n.lockContention}{${JOB}}`, legend: '{{log}}' }],
      thresholds: alertSteps(t, 'CrmLockContention', 'above', a.CrmLockContention.threshold),
    }),
  ];
}

function baselinePanels(t: Thresholds): DashboardSpec['items'] {
  if (!t.baseline.enabled) return [];
  const n = serviceNames(t.evaluation.rate_window);
  const b = baselineNames(t);
  const drop = t.alerts.CrmThroughputBelowBaseline;
  const rise = t.alerts.CrmErrorRatioAboveBaseline;
  const band = (limit: string) => ({ baseline: [{ id: 'custom.fillBelowTo', value: limit }] });
  return [
    row('This week against the last three'),
    timeseriesPanel({
      title: 'Throughput against baseline',
      description: `Requests per second now, and the baseline: the median of the same hour 1, 2 and 3 weeks ago plus the weekly trend (absent until three weeks of history exist). The band ends where CrmThroughputBelowBaseline fires (${num(drop.ratio * 100)} % of the baseline).`,
      unit: 'reqps',
      queries: [
        { expr: `${n.requests}{${JOB}}`, legend: 'now' },
        { expr: `${b.requestsBaseline}{${JOB}}`, legend: 'baseline' },
        { expr: `${b.requestsBaseline}{${JOB}} * ${num(drop.ratio)}`, legend: 'alert below' },
      ],
      series: band('alert below'),
    }),
    timeseriesPanel({
      title: 'Error ratio against baseline',
      description: `Share of 5xx answers now, and the baseline for this hour (median of the last three weeks). The band ends where CrmErrorRatioAboveBaseline fires (${num(rise.factor)}x the baseline plus ${num(rise.margin * 100)} points).`,
      unit: 'percentunit',
      queries: [
        { expr: `${n.errorRatio}{${JOB}}`, legend: 'now' },
        { expr: `${b.errorRatioBaseline}{${JOB}}`, legend: 'baseline' },
        { expr: `${num(rise.factor)} * ${b.errorRatioBaseline}{${JOB}} + ${num(rise.margin)}`, legend: 'alert above' },
      ],
      series: band('alert above'),
    }),
  ];
}
