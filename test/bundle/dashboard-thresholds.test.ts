import { describe, expect, it } from 'vitest';
import type { Dashboard, Threshold } from '@grafana/grafana-foundation-sdk/dashboard';
import { durationSeconds } from '../../src/exporter/bundle/prom-duration.js';
import { dashboards } from '../../src/exporter/bundle/dashboards/index.js';
import { allPanels } from '../../src/exporter/bundle/dashboards/queries.js';
import { loadThresholdsFile, parseThresholds, type Thresholds } from '../../src/exporter/bundle/thresholds.js';

/*
 * Every stat's colours come from thresholds.yaml: it turns red where its alert fires. The mapping from stat to
 * alert is written out here, independently of the generator, and every stat must be in it.
 */
const green = (): Threshold => ({ value: null, color: 'green' });
const above = (limit: number): Threshold[] => [green(), { value: limit, color: 'red' }];
const below = (limit: number): Threshold[] => [
  { value: null, color: 'red' },
  { value: limit, color: 'green' },
];
const ifEnabled = (enabled: boolean, steps: Threshold[]): Threshold[] => (enabled ? steps : [green()]);

function expectedStatSteps(t: Thresholds): Record<string, Threshold[]> {
  const a = t.alerts;
  const page = t.slo.page.windows[0]!;
  return {
    'crm-overview / Response time p95 (slowest route)': ifEnabled(
      a.CrmLatencyP95High.enabled,
      above(a.CrmLatencyP95High.threshold),
    ),
    'crm-overview / Throughput': ifEnabled(a.CrmThroughputBelowFloor.enabled, below(a.CrmThroughputBelowFloor.min_rps)),
    'crm-overview / Error rate': ifEnabled(a.CrmErrorRatioHigh.enabled, above(a.CrmErrorRatioHigh.threshold)),
    'crm-overview / Availability': ifEnabled(
      a.CrmAvailabilityBelowObjective.enabled,
      below(a.CrmAvailabilityBelowObjective.threshold),
    ),
    'crm-overview / Apdex': ifEnabled(a.CrmApdexLow.enabled, below(a.CrmApdexLow.threshold)),
    'crm-overview / Error budget remaining': below(0),
    'crm-overview / Burn rate': [
      green(),
      { value: 1, color: 'orange' },
      ...(t.slo.page.enabled ? [{ value: page.factor, color: 'red' }] : []),
    ],
    'crm-route / Requests': [green()],
    'crm-route / Error ratio': [green()],
    'crm-route / Response time p95': ifEnabled(a.CrmLatencyP95High.enabled, above(a.CrmLatencyP95High.threshold)),
    'crm-route / Response time p99': ifEnabled(a.CrmLatencyP99High.enabled, above(a.CrmLatencyP99High.threshold)),
    'crm-postgres / PostgreSQL readable': ifEnabled(a.CrmPostgresDown.enabled, below(1)),
    'crm-postgres / Connections used': ifEnabled(
      a.CrmPostgresConnectionsNearMax.enabled,
      above(a.CrmPostgresConnectionsNearMax.threshold),
    ),
    'crm-postgres / Cache hit ratio': ifEnabled(
      a.CrmPostgresCacheHitRatioLow.enabled,
      below(a.CrmPostgresCacheHitRatioLow.threshold),
    ),
    'crm-postgres / Longest transaction': ifEnabled(
      a.CrmPostgresLongTransaction.enabled,
      above(a.CrmPostgresLongTransaction.threshold),
    ),
    'crm-postgres / Blocked sessions': ifEnabled(
      a.CrmPostgresBlockedSessions.enabled,
      above(a.CrmPostgresBlockedSessions.threshold),
    ),
    'crm-postgres / Replication lag': ifEnabled(
      a.CrmPostgresReplicationLag.enabled,
      above(a.CrmPostgresReplicationLag.threshold),
    ),
    'crm-redis / Redis readable': ifEnabled(a.CrmRedisDown.enabled, below(1)),
    'crm-redis / Hit ratio': ifEnabled(a.CrmRedisHitRatioLow.enabled, below(a.CrmRedisHitRatioLow.threshold)),
    'crm-redis / Memory used of maxmemory': ifEnabled(
      a.CrmRedisMemoryNearMax.enabled,
      above(a.CrmRedisMemoryNearMax.threshold),
    ),
    'crm-redis / Slow log length': [green()],
    'crm-exporter / Scraped': ifEnabled(a.CrmExporterDown.enabled, below(1)),
    'crm-exporter / Collectors succeeding': ifEnabled(a.CrmCollectorFailing.enabled, below(1)),
    'crm-exporter / Parse error ratio': ifEnabled(a.CrmLogParseErrors.enabled, above(a.CrmLogParseErrors.threshold)),
    'crm-exporter / Since last log line': ifEnabled(a.CrmLogStale.enabled, above(durationSeconds(a.CrmLogStale.after))),
  };
}

function statSteps(all: Record<string, Dashboard>): Record<string, unknown> {
  return Object.fromEntries(
    Object.values(all).flatMap((d) =>
      allPanels(d)
        .filter((p) => p.type === 'stat')
        .map((p) => [`${d.uid} / ${p.title}`, p.fieldConfig?.defaults?.thresholds?.steps]),
    ),
  );
}

const statQuery = (all: Record<string, Dashboard>, uid: string, title: string): string =>
  (allPanels(all[uid as keyof typeof all]!).find((p) => p.title === title)?.targets?.[0] as unknown as { expr: string })
    .expr;

describe('stat thresholds', () => {
  it('equal the shipped thresholds file, stat by stat', () => {
    const t = loadThresholdsFile('alerting/thresholds.yaml');
    expect(statSteps(dashboards(t, 'alerting/thresholds.yaml'))).toEqual(expectedStatSteps(t));
  });

  it('follow a changed file: new limits, an alert switched on, one switched off, another page window', () => {
    const t = parseThresholds({
      alerts: {
        CrmErrorRatioHigh: { threshold: 0.02, min_rps: 2 },
        CrmThroughputBelowFloor: { enabled: true, min_rps: 3 },
        CrmApdexLow: { enabled: false },
        CrmRedisMemoryNearMax: { threshold: 0.75 },
      },
      slo: { page: { windows: [{ long: '2h', short: '10m', factor: 10 }] } },
    });
    const all = dashboards(t, 'mine.yaml');
    const steps = statSteps(all);
    expect(steps).toEqual(expectedStatSteps(t));
    expect(steps['crm-overview / Error rate']).toEqual(above(0.02));
    expect(steps['crm-overview / Throughput']).toEqual(below(3));
    expect(steps['crm-overview / Apdex']).toEqual([green()]);
    expect(steps['crm-overview / Burn rate']).toContainEqual({ value: 10, color: 'red' });
    // The stat filters by the alert's minimum traffic only while the alert exists.
    expect(statQuery(all, 'crm-overview', 'Error rate')).toContain('>= 2');
    expect(statQuery(all, 'crm-overview', 'Apdex')).not.toContain('>=');
    expect(statQuery(all, 'crm-overview', 'Burn rate')).toContain('ratio_rate2h');
  });
});
