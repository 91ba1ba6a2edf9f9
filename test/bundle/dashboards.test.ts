import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { Dashboard, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../../src/exporter/bundle/dashboards/dashboard.js';
import { allPanels, dashboardQueries, substituteVariables } from '../../src/exporter/bundle/dashboards/queries.js';
import { renderBundle } from '../../src/exporter/bundle/render.js';
import { loadThresholdsFile } from '../../src/exporter/bundle/thresholds.js';
import { requireBinary } from '../helpers/prometheus.js';
import { exposedSeries } from '../helpers/exposed-metrics.js';
import { lintExpr, parseSelectors } from '../helpers/promql-lint.js';

/*
 * The dashboards as Grafana and Grafana's dashboard linter see them: the committed JSON files (what provisioning
 * loads), checked against the exporter's real exposition, the generated rules and promtool.
 */
const SOURCE = 'alerting/thresholds.yaml';
const t = loadThresholdsFile(SOURCE);
const files = readdirSync('dashboards').filter((f) => f.endsWith('.json'));
const committed: Dashboard[] = files.map((f) => JSON.parse(readFileSync(join('dashboards', f), 'utf8')) as Dashboard);
const queries = dashboardQueries(committed);
const at = (q: { uid: string; panel: string; refId: string }) => `${q.uid} / ${q.panel} / ${q.refId}`;
/** Grafana's provisioned datasources (docker-compose mounts this file): the uids a panel may name. */
const provisioned = (
  yaml.load(readFileSync('dashboards/provisioning/datasources/datasources.yml', 'utf8')) as {
    datasources: Array<{ name: string; uid: string; type: string }>;
  }
).datasources;
const PROVISIONED_UIDS = provisioned.map((d) => d.uid);

const variable = (d: Dashboard, name: string): VariableModel | undefined =>
  d.templating?.list?.find((v) => v.name === name);
/** The selector inside a `label_values(selector, label)` variable query. */
const variableSelector = (v: VariableModel): string =>
  /^label_values\((.*),\s*\w+\)$/s.exec(String(v.query))?.[1] ?? `not label_values: ${String(v.query)}`;

describe('dashboards/*.json', () => {
  it('are exactly the five dashboards, each parsing, with unique uids matching the file name', () => {
    expect(files.sort()).toEqual(DASHBOARDS.map((d) => `${d.uid}.json`).sort());
    committed.forEach((d, i) => expect(`${d.uid}.json`).toBe(files[i]));
    expect(new Set(committed.map((d) => d.uid)).size).toBe(committed.length);
  });

  it('equal a fresh render of the thresholds file (regenerate and diff: run `npm run bundle`)', () => {
    const fresh = [...renderBundle(t, SOURCE)].filter(([path]) => path.startsWith('dashboards/'));
    expect(fresh.map(([path]) => path).sort()).toEqual(files.map((f) => `dashboards/${f}`).sort());
    for (const [path, content] of fresh) expect(readFileSync(path, 'utf8'), path).toBe(content);
  });

  it.each(committed.map((d) => [d.uid, d] as const))(
    '%s: tags, generated note, links to every other dashboard',
    (_uid, d) => {
      expect(d.tags).toContain('crm');
      expect(d.description).toContain(`Generated from ${SOURCE} by crm-exporter bundle; do not edit`);
      const targets = (d.links ?? []).map((l) => l.url);
      expect(targets.sort()).toEqual(
        DASHBOARDS.filter((o) => o.uid !== d.uid)
          .map((o) => `/d/${o.uid}`)
          .sort(),
      );
      for (const link of d.links ?? []) expect(link).toMatchObject({ includeVars: true, keepTime: true });
    },
  );

  it.each(committed.map((d) => [d.uid, d] as const))(
    '%s: datasource, cluster, job and instance variables as the linter wants them',
    (_uid, d) => {
      const prometheus = provisioned.find((p) => p.type === 'prometheus');
      expect(variable(d, 'datasource')).toMatchObject({
        type: 'datasource',
        query: 'prometheus',
        current: { value: prometheus?.uid },
      });
      for (const name of ['job', 'instance']) {
        expect(variable(d, name), name).toMatchObject({
          type: 'query',
          datasource: { uid: '${datasource}' },
          multi: true,
          includeAll: true,
          allValue: '.+',
        });
      }
      // cluster's All matches series without the label (one host): `.*`, not `.+`
      expect(variable(d, 'cluster')).toMatchObject({
        type: 'query',
        datasource: { uid: '${datasource}' },
        multi: true,
        includeAll: true,
        allValue: '.*',
      });
      const order = (d.templating?.list ?? []).map((v) => v.name);
      expect(order.slice(0, 4)).toEqual(['datasource', 'cluster', 'job', 'instance']);
      expect(variableSelector(variable(d, 'job')!)).toContain('cluster=~"$cluster"');
      expect(variableSelector(variable(d, 'instance')!)).toContain('cluster=~"$cluster", job=~"$job"');
    },
  );

  it.each(committed.map((d) => [d.uid, d] as const))(
    '%s: every panel has a provisioned datasource, a unit and a description',
    (_uid, d) => {
      for (const panel of allPanels(d)) {
        const where = `${d.uid} / ${panel.title}`;
        const ds = panel.datasource?.uid ?? '';
        expect(ds === '${datasource}' || PROVISIONED_UIDS.includes(ds), `${where}: datasource ${ds}`).toBe(true);
        for (const target of (panel.targets ?? []) as Array<{ datasource?: { uid?: string } }>)
          expect(target.datasource?.uid, where).toBe(ds);
        expect(panel.description?.trim(), where).toBeTruthy();
        expect(panel.fieldConfig?.defaults?.unit, where).toBeTruthy();
        const source = provisioned.find((p) => p.uid === ds);
        if (source) expect(panel.datasource?.type, where).toBe(source.type);
        if (panel.type === 'alertGroups') {
          // This panel names its Alertmanager datasource by name, not uid: it must be the provisioned one's.
          expect(source?.type, where).toBe('alertmanager');
          expect((panel.options as { alertmanager?: string }).alertmanager, where).toBe(source?.name);
        } else {
          expect(panel.targets?.length ?? 0, `${where}: no query`).toBeGreaterThan(0);
        }
      }
    },
  );
});

describe('dashboard queries', () => {
  it('exist: every Prometheus panel has one, the end-to-end test gets them all', () => {
    expect(queries.length).toBeGreaterThan(60);
    const panels = committed.flatMap((d) =>
      allPanels(d)
        .filter((p) => p.datasource?.uid === '${datasource}')
        .map((p) => `${d.uid} / ${p.title}`),
    );
    expect(new Set(queries.map((q) => `${q.uid} / ${q.panel}`))).toEqual(new Set(panels));
  });

  it('pass the linter checks: job/instance matchers, $__rate_interval, counters only inside rate/increase', async () => {
    const { counters } = await exposedSeries(t);
    const problems = queries.flatMap((q) => lintExpr(q.expr, counters).map((p) => `${at(q)}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('read only series the exporter exposes or a generated rule records', async () => {
    const { names } = await exposedSeries(t);
    const exprs = [
      ...queries.map((q) => [at(q), q.expr] as const),
      ...committed.flatMap((d) =>
        (d.templating?.list ?? [])
          .filter((v) => v.type === 'query')
          .map((v) => [`${d.uid} / $${v.name}`, variableSelector(v)] as const),
      ),
    ];
    const unknown = exprs.flatMap(([where, expr]) =>
      parseSelectors(expr)
        .filter((s) => !names.has(s.name))
        .map((s) => `${where}: ${s.name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('each pass `promtool check rules` as a recording rule, Grafana variables substituted', () => {
    const promtool = requireBinary('promtool', 'prometheus');
    const rules = queries.map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: substituteVariables(q.expr, { route: '/api/customers/:id' }),
      labels: { at: at(q) },
    }));
    const dir = mkdtempSync(join(tmpdir(), 'crm-dashboards-'));
    try {
      const file = join(dir, 'dashboards.rules.yml');
      writeFileSync(file, yaml.dump({ groups: [{ name: 'dashboard-queries', rules }] }, { lineWidth: -1 }));
      const result = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
      expect(`${result.stdout}${result.stderr}`).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
