import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dash from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/*
 * The panel kinds the dashboards use, with the house defaults (datasource variable, units, descriptions, legends)
 * applied in one place, so a dashboard file only says what it shows.
 */

/** Grafana's datasources as docker-compose provisions them (dashboards/provisioning/datasources). */
export const PROMETHEUS_UID = 'crm-prometheus';
export const ALERTMANAGER_UID = 'crm-alertmanager';
/** Every Prometheus panel and query reads the `datasource` variable, whose default is PROMETHEUS_UID. */
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  expr: string;
  legend?: string;
  /** One value per series (stats, tables) instead of a range. */
  instant?: boolean;
  format?: 'table' | 'heatmap';
}

export interface PanelSpec {
  title: string;
  description: string;
  /** A Grafana unit id: s, reqps, percentunit, bytes, none ... */
  unit: string;
  queries: Query[];
  /** Grid columns out of 24, and rows. */
  width?: number;
  height?: number;
}

/** Threshold steps, lowest first; the first step's value is null (everything below the next one). */
export type Steps = dash.Threshold[];

/** Green, red from `limit` up: the colour of an alert that fires above `limit`. */
export const redAbove = (limit: number): Steps => [
  { value: null, color: 'green' },
  { value: limit, color: 'red' },
];

/** Red, green from `limit` up: the colour of an alert that fires below `limit`. */
export const redBelow = (limit: number): Steps => [
  { value: null, color: 'red' },
  { value: limit, color: 'green' },
];

export const neutral: Steps = [{ value: null, color: 'green' }];

const REF_IDS = 'ABCDEFGHIJ';

function target(q: Query, index: number): DataqueryBuilder {
  const t = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(REF_IDS[index] ?? `Q${index}`)
    .expr(q.expr);
  if (q.legend !== undefined) t.legendFormat(q.legend);
  if (q.format === 'table') t.format(PromQueryFormat.Table);
  if (q.format === 'heatmap') t.format(PromQueryFormat.Heatmap);
  return q.instant || q.format === 'table' ? t.instant() : t.range();
}

const thresholds = (steps: Steps) => new dash.ThresholdsConfigBuilder().mode(dash.ThresholdsMode.Absolute).steps(steps);

type Common = stat.PanelBuilder | timeseries.PanelBuilder | table.PanelBuilder;

function apply<P extends Common>(panel: P, spec: PanelSpec, defaultWidth: number, defaultHeight: number): P {
  panel
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? defaultWidth)
    .height(spec.height ?? defaultHeight)
    .targets(spec.queries.map(target));
  return panel;
}

export interface StatSpec extends PanelSpec {
  thresholds: Steps;
  decimals?: number;
}

/** One big number per series, coloured by `thresholds` (taken from the alert it mirrors). */
export function statPanel(spec: StatSpec): stat.PanelBuilder {
  const panel = apply(new stat.PanelBuilder(), spec, 4, 4)
    .thresholds(thresholds(spec.thresholds))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (spec.decimals !== undefined) panel.decimals(spec.decimals);
  return panel;
}

export interface TimeseriesSpec extends PanelSpec {
  stack?: boolean;
  /** Drawn as dashed lines: where the matching alert fires. */
  thresholds?: Steps;
  min?: number;
  max?: number;
  /** Field overrides by series name (legend): bands, lines that must not stack. */
  series?: Record<string, dash.DynamicConfigValue[]>;
}

export function timeseriesPanel(spec: TimeseriesSpec): timeseries.PanelBuilder {
  const panel = apply(new timeseries.PanelBuilder(), spec, 12, 8)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .calcs([]),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    )
    .fillOpacity(spec.stack ? 60 : 10)
    .lineWidth(1);
  if (spec.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (spec.thresholds) {
    panel
      .thresholds(thresholds(spec.thresholds))
      .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  for (const [name, properties] of Object.entries(spec.series ?? {})) panel.overrideByName(name, properties);
  return panel;
}

export interface TableSpec extends PanelSpec {
  /** Colour for the cells of the first query's value column. */
  thresholds?: Steps;
  /** Column title per field name (`Value #A` ...); fields not listed keep their name, `__hide__` hides them. */
  columns: Record<string, string>;
  /** Unit per column title, where it differs from `unit`. */
  units?: Record<string, string>;
  sortBy: string;
  descending?: boolean;
}

/** Instant queries joined into one row per series (Grafana's merge transformation), sorted by one column. */
export function tablePanel(spec: TableSpec): table.PanelBuilder {
  const rename: Record<string, string> = {};
  const exclude: Record<string, boolean> = { Time: true };
  for (const [field, title] of Object.entries(spec.columns)) {
    if (title === '__hide__') exclude[field] = true;
    else rename[field] = title;
  }
  const panel = apply(
    new table.PanelBuilder(),
    { ...spec, queries: spec.queries.map((q) => ({ ...q, format: 'table' })) },
    12,
    8,
  )
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({ id: 'organize', options: { excludeByName: exclude, renameByName: rename } })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName(spec.sortBy).desc(spec.descending ?? true)]);
  if (spec.thresholds) {
    panel
      .thresholds(thresholds(spec.thresholds))
      .overrideByName(rename['Value #A'] ?? 'Value #A', [{ id: 'custom.cellOptions', value: { type: 'color-text' } }]);
  }
  for (const [column, unit] of Object.entries(spec.units ?? {}))
    panel.overrideByName(column, [{ id: 'unit', value: unit }]);
  return panel;
}

/** A full-width section heading. */
export const row = (title: string): dash.RowBuilder => new dash.RowBuilder(title);
