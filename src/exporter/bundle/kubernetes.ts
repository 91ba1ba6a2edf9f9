import yaml from 'js-yaml';
import { dashboards, renderDashboard } from './dashboards/index.js';
import { generatedHeader } from './render.js';
import { ruleFiles } from './rules/index.js';
import type { Thresholds } from './thresholds-schema.js';

/*
 * The bundle as Kubernetes objects, for deploy/kubernetes/ and for clusters run with the Prometheus Operator and
 * Grafana's dashboard sidecar: the same rules and dashboards as the plain files, never a second copy of their logic.
 *
 * - PrometheusRule (monitoring.coreos.com/v1): spec.groups is every group of alerting/rules/*.yml, in file order
 *   (recording rules first), byte for byte the same groups.
 * - One ConfigMap per dashboard with the label Grafana's sidecar looks for (`grafana_dashboard: "1"`, the default of
 *   the Grafana Helm chart and kube-prometheus-stack), its data the exact text of dashboards/<uid>.json. One per
 *   dashboard keeps each far below the 256 KiB that `kubectl apply` can store in its last-applied annotation.
 */

/** Labels on every object we render; kustomize adds its own on top. */
const LABELS = { 'app.kubernetes.io/name': 'crm-exporter', 'app.kubernetes.io/part-of': 'crm-exporter' };

/** The label (and value) Grafana's dashboard sidecar selects ConfigMaps by. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: '1' } as const;

/** The file names the Kubernetes formats write under --out. */
export const PROMETHEUS_RULE_FILE = 'prometheusrule.yaml';
export const GRAFANA_DASHBOARDS_FILE = 'grafana-dashboards.yaml';

function dump(document: unknown): string {
  return yaml.dump(document, { lineWidth: -1, noRefs: true, quotingType: '"' });
}

/** The PrometheusRule object holding every generated rule group. */
export function prometheusRule(t: Thresholds): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'crm-exporter', labels: { ...LABELS } },
    spec: { groups: Object.values(ruleFiles(t)).flat() },
  };
}

export function renderPrometheusRule(t: Thresholds, source: string): string {
  return `${generatedHeader(source)}${dump(prometheusRule(t))}`;
}

/** One ConfigMap per dashboard: name grafana-dashboard-<uid>, one key <uid>.json. */
export function grafanaDashboardConfigMaps(t: Thresholds, source: string): Array<Record<string, unknown>> {
  return Object.entries(dashboards(t, source)).map(([uid, dashboard]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `grafana-dashboard-${uid}`, labels: { ...LABELS, ...GRAFANA_DASHBOARD_LABEL } },
    data: { [`${uid}.json`]: renderDashboard(dashboard) },
  }));
}

export function renderGrafanaDashboardConfigMaps(t: Thresholds, source: string): string {
  return `${generatedHeader(source)}${grafanaDashboardConfigMaps(t, source).map(dump).join('---\n')}`;
}
