import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';

/*
 * Every PromQL expression of the dashboards, for the consistency tests and the end-to-end test that evaluates
 * each one against a live Prometheus.
 */

export interface DashboardQuery {
  dashboard: string;
  uid: string;
  panel: string;
  refId: string;
  expr: string;
  /** true: Grafana runs it as an instant query (stats, tables); false: over the time range. */
  instant: boolean;
}

interface PromTarget {
  refId?: string;
  expr?: string;
  instant?: boolean;
}

/** Panels in reading order, including those inside collapsed rows. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p: Panel | RowPanel) =>
    p.type === 'row' ? ((p as RowPanel).panels ?? []) : [p as Panel],
  );
}

export function dashboardQueries(dashboards: Iterable<Dashboard>): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const d of dashboards) {
    for (const panel of allPanels(d)) {
      for (const target of (panel.targets ?? []) as PromTarget[]) {
        if (target.expr === undefined) continue;
        out.push({
          dashboard: d.title ?? '',
          uid: d.uid ?? '',
          panel: panel.title ?? '',
          refId: target.refId ?? '',
          expr: target.expr,
          instant: target.instant === true,
        });
      }
    }
  }
  return out;
}

/** What Grafana puts in place of its variables when every value (All) is selected and the rate window is 1m. */
export const DEFAULT_VARIABLE_VALUES: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1h',
  datasource: 'crm-prometheus',
  cluster: '.*',
  job: '.+',
  instance: '.+',
  route: '.+',
};

/**
 * Replaces `$name` and `${name}` as Grafana interpolates them. `values` override the defaults: a test against a live
 * Prometheus gives `route` a real route, because the route dashboard matches it exactly (`route="$route"`).
 * Throws on a variable without a value, so a new variable cannot slip through as literal text.
 */
export function substituteVariables(expr: string, values: Record<string, string> = {}): string {
  const all = { ...DEFAULT_VARIABLE_VALUES, ...values };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = all[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${match} in: ${expr}`);
    return value;
  });
}
