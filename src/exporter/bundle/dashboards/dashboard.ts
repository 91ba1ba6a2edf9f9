import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dash from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE, PROMETHEUS_UID } from './panels.js';

/*
 * What every dashboard shares: uid, tags, the datasource/cluster/job/instance variables, links to the others, the
 * "generated" note, panel ids. The variables follow Grafana's dashboard linter: a `datasource` variable of type
 * prometheus, `job` and `instance` query variables (multi, include All, All = `.+`) that every query filters on.
 * `cluster` comes first: a fleet's Prometheus (or its remote-write store) adds it as an external or target label
 * (docs/remote-write.md), and the rules keep it. Its All is `.*`, so that series without the label (one host, no
 * cluster) still match: an empty label value matches `.*` but not `.+`.
 */

/** The dashboards, in link order. Their uids are public: bookmarks and links point at them. */
export const DASHBOARDS = [
  { uid: 'crm-overview', title: 'CRM overview' },
  { uid: 'crm-route', title: 'CRM route' },
  { uid: 'crm-postgres', title: 'CRM PostgreSQL' },
  { uid: 'crm-redis', title: 'CRM Redis' },
  { uid: 'crm-exporter', title: 'CRM exporter health' },
] as const;

export type DashboardUid = (typeof DASHBOARDS)[number]['uid'];

/** The series the job and instance variables list: every crm-exporter target serves it. */
const TARGETS = 'crm_exporter_build_info';

/** Matchers for the variables: on every selector (`instance` only where the series has that label). */
export const JOB = 'cluster=~"$cluster", job=~"$job"';
export const JOB_INSTANCE = `${JOB}, instance=~"$instance"`;

function queryVariable(name: string, query: string): dash.QueryVariableBuilder {
  return new dash.QueryVariableBuilder(name)
    .label(name)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dash.VariableRefresh.OnTimeRangeChanged)
    .sort(dash.VariableSort.AlphabeticalAsc);
}

/** A `label_values` variable that selects several values or All (`.+`, or `allValue`). */
export function multiVariable(name: string, query: string, allValue = '.+'): dash.QueryVariableBuilder {
  return queryVariable(name, query)
    .multi(true)
    .includeAll(true)
    .allValue(allValue)
    .current({ text: 'All', value: '$__all' });
}

/** A `label_values` variable that selects exactly one value. */
export function singleVariable(name: string, query: string): dash.QueryVariableBuilder {
  return queryVariable(name, query).multi(false).includeAll(false);
}

export interface DashboardSpec {
  uid: DashboardUid;
  /** What the dashboard answers, first sentence of its description. */
  summary: string;
  tags: string[];
  /** Variables after datasource, cluster, job and instance. */
  variables?: dash.QueryVariableBuilder[];
  /** Rows and panels in reading order; the SDK lays them out left to right, top to bottom. */
  items: Array<cog.Builder<dash.Panel> | dash.RowBuilder>;
}

export function buildDashboard(spec: DashboardSpec, source: string): dash.Dashboard {
  const title = DASHBOARDS.find((d) => d.uid === spec.uid)?.title ?? spec.uid;
  const builder = new dash.DashboardBuilder(title)
    .uid(spec.uid)
    .tags(['crm', ...spec.tags])
    .description(`${spec.summary} Generated from ${source} by crm-exporter bundle; do not edit.`)
    .editable()
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .tooltip(dash.DashboardCursorSync.Crosshair)
    .withVariable(
      new dash.DatasourceVariableBuilder('datasource')
        .label('Data source')
        .type('prometheus')
        .current({ text: 'Prometheus', value: PROMETHEUS_UID }),
    )
    .withVariable(multiVariable('cluster', `label_values(${TARGETS}, cluster)`, '.*'))
    .withVariable(multiVariable('job', `label_values(${TARGETS}{cluster=~"$cluster"}, job)`))
    .withVariable(multiVariable('instance', `label_values(${TARGETS}{${JOB}}, instance)`));
  for (const variable of spec.variables ?? []) builder.withVariable(variable);
  for (const other of DASHBOARDS.filter((d) => d.uid !== spec.uid)) {
    builder.link(
      new dash.DashboardLinkBuilder(other.title)
        .type(dash.DashboardLinkType.Link)
        .url(`/d/${other.uid}`)
        .icon('dashboard')
        .includeVars(true)
        .keepTime(true),
    );
  }
  for (const item of spec.items) {
    if (item instanceof dash.RowBuilder) builder.withRow(item);
    else builder.withPanel(item);
  }
  const dashboard = builder.build();
  // Stable ids in reading order (links such as ?viewPanel=N keep working across regenerations).
  dashboard.panels?.forEach((panel, index) => (panel.id = index + 1));
  // The SDK marks every link "inControlsMenu", which hides it in a menu; absent, Grafana shows it in the top bar.
  for (const link of dashboard.links ?? []) delete link.placement;
  return dashboard;
}
