import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Thresholds } from '../thresholds-schema.js';
import type { DashboardUid } from './dashboard.js';
import { exporterDashboard } from './exporter.js';
import { overviewDashboard } from './overview.js';
import { postgresDashboard } from './postgres.js';
import { redisDashboard } from './redis.js';
import { routeDashboard } from './route.js';

/** Every dashboard the bundle ships, by uid (also its file name: dashboards/<uid>.json). */
export function dashboards(t: Thresholds, source: string): Record<DashboardUid, Dashboard> {
  return {
    'crm-overview': overviewDashboard(t, source),
    'crm-route': routeDashboard(t, source),
    'crm-postgres': postgresDashboard(t, source),
    'crm-redis': redisDashboard(t, source),
    'crm-exporter': exporterDashboard(t, source),
  };
}

/** A dashboard as Grafana's file provisioning loads it. */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
