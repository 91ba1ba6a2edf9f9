import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { renderBundle } from '../../src/exporter/bundle/render.js';
import { loadThresholdsFile, parseThresholds } from '../../src/exporter/bundle/thresholds.js';
import { SEVERITIES } from '../../src/exporter/bundle/thresholds-schema.js';
import { rulesOfFiles, type LoadedRule } from '../helpers/rules.js';
import { exposedSeries } from '../helpers/exposed-metrics.js';
import { parseSelectors } from '../helpers/promql-lint.js';

/*
 * The bundle against everything it refers to: the exporter's metrics (golden expositions), the runbook, the
 * severity set, Alertmanager's matchers, and the generator itself (the committed rule files are what it renders).
 * Checked on the committed files and on a rendering with every alert switched on, so that alerts that are off by
 * default (CrmThroughputBelowFloor) are held to the same rules.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

const thresholds = loadThresholdsFile(join(root, 'alerting/thresholds.yaml'));
const committedFiles = new Map(
  readdirSync(join(root, 'alerting/rules')).map((name) => [`alerting/rules/${name}`, read(`alerting/rules/${name}`)]),
);
const allOn = parseThresholds({
  alerts: Object.fromEntries(Object.keys(thresholds.alerts).map((name) => [name, { enabled: true }])),
});

const ruleSets: Array<[string, LoadedRule[]]> = [
  ['committed', rulesOfFiles(committedFiles)],
  ['every alert enabled', rulesOfFiles(renderBundle(allOn))],
];
const allRules = ruleSets.flatMap(([, rules]) => rules);
/** Each distinct rule once (most are in both sets). */
const distinctRules = [...new Map(allRules.map((r) => [`${r.alert ?? r.record} ${r.expr}`, r])).values()];
const alerts = (rules: LoadedRule[]): LoadedRule[] => rules.filter((r) => r.alert !== undefined);
/** [alert name, rule set, rule] of every alert of both sets: the checks run on the committed files too. */
const alertCases = ruleSets.flatMap(([set, rules]) => alerts(rules).map((r) => [r.alert as string, set, r] as const));
const everyAlert = [...new Map(alerts(allRules).map((r) => [r.alert as string, r])).values()];

/**
 * What a rule may read: the exporter's series (golden expositions, prom-client's runtime metrics, Prometheus's `up`)
 * and the names the rules record. The union of both rule sets' records, so a disabled alert cannot hide a name.
 */
const exposedNames = exposedSeries(allOn).then((exposed) => exposed.names);
const recorded = new Set(allRules.flatMap((r) => (r.record ? [r.record] : [])));

/** Metric names an expression selects, read from the syntax tree of Prometheus's own PromQL grammar. */
const metricsOf = (expr: string): string[] =>
  [...new Set(parseSelectors(expr).map((s) => s.name))].filter((n) => n !== '').sort();
/** The syntax error of an expression, or '' when it parses. */
function syntaxError(expr: string): string {
  try {
    parseSelectors(expr);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces as `-`. */
const githubAnchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The `## ` sections of a Markdown file (heading -> body); lines inside fenced code blocks are never headings. */
function sections(markdown: string): Map<string, string> {
  const result = new Map<string, string>();
  let heading: string | undefined;
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) inFence = !inFence;
    if (!inFence && line.startsWith('## ')) {
      heading = line.slice(3).trim();
      result.set(heading, '');
    } else if (heading !== undefined) {
      result.set(heading, `${result.get(heading) ?? ''}${line}\n`);
    }
  }
  return result;
}

/** The PromQL of the ```promql blocks of a Markdown text: one expression per block. */
const promqlBlocksOf = (markdown: string): string[] =>
  [...markdown.matchAll(/^```promql\n([\s\S]*?)^```$/gm)].map((m) => (m[1] as string).trim());

const runbook = read('alerting/runbook.md');
const runbookSections = sections(runbook);
const sectionHeadings = [...runbookSections.keys()];
/** The one `##` section that is not an alert: the introduction (severities, routing, Prometheus needs). */
const INTRO_HEADINGS = ['Before you start'];
const alertSections = [...runbookSections].filter(([heading]) => !INTRO_HEADINGS.includes(heading));

describe('every rule expression', () => {
  it.each(distinctRules.map((r) => [r.alert ?? r.record, r] as const))('%s parses as PromQL', (_name, rule) => {
    expect(syntaxError(rule.expr)).toBe('');
  });

  it('uses only metrics the exporter serves or another rule records', async () => {
    const exposed = await exposedNames;
    const unknown = allRules.flatMap((rule) =>
      metricsOf(rule.expr)
        .filter((m) => !exposed.has(m) && !recorded.has(m))
        .map((m) => `${rule.alert ?? rule.record} (${rule.file}): ${m}`),
    );
    expect(unknown).toEqual([]);
  });

  it('finds the metrics of a real rule (the parser sees selectors, not functions, labels or strings)', () => {
    const seqScan = everyAlert.find((r) => r.alert === 'CrmPostgresSeqScanHeavyTable');
    expect(metricsOf(seqScan?.expr ?? '')).toEqual([
      'crm_pg_table_index_scans_total',
      'crm_pg_table_live_rows',
      'crm_pg_table_seq_rows_read_total',
      'crm_pg_table_seq_scans_total',
    ]);
    expect(metricsOf('label_replace(up offset 1w, "offset", "1w", "", "") or on (job) crm_pg_up')).toEqual([
      'crm_pg_up',
      'up',
    ]);
    expect(syntaxError('sum by (job) (rate(x[5m])')).not.toBe('');
  });
});

describe('every alert', () => {
  it('ships with the committed bundle or is off by default', () => {
    const committed = new Set(alerts(ruleSets[0]?.[1] ?? []).map((r) => r.alert));
    const off = everyAlert.filter((r) => !committed.has(r.alert)).map((r) => r.alert);
    expect(off).toEqual(['CrmThroughputBelowFloor']);
  });

  it.each(alertCases)(
    '%s (%s) is CamelCase, has a severity from SEVERITIES and the three annotations',
    (name, _set, rule) => {
      expect(name).toMatch(/^Crm(?:[A-Z][a-z0-9]*)+$/);
      expect(SEVERITIES).toContain(rule.labels?.severity);
      expect(Object.keys(rule.annotations ?? {}).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(rule.annotations?.summary, 'a summary is a plain sentence, the same for every instance').not.toContain(
        '{{',
      );
      expect(rule.annotations?.description, 'a description locates the problem with the value and labels').toContain(
        '{{',
      );
    },
  );

  it.each(alertCases)('%s (%s) links to its own runbook section', (name, _set, rule) => {
    const url = new URL(rule.annotations?.runbook_url ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(thresholds.runbook_url);
    expect(url.hash).toBe(`#${githubAnchor(name)}`);
    expect(sectionHeadings.map(githubAnchor)).toContain(url.hash.slice(1));
  });
});

describe('alerting/runbook.md', () => {
  it('has one section per alert, and no section for an alert that does not exist', () => {
    expect(alertSections.map(([heading]) => heading).sort()).toEqual(everyAlert.map((r) => r.alert).sort());
    expect(runbook.match(/^## /gm)?.length, 'a heading was given twice').toBe(sectionHeadings.length);
  });

  it('documents exactly the severities of SEVERITIES', () => {
    const intro = runbookSections.get('Before you start') ?? '';
    const table = intro.slice(intro.indexOf('### Severities'), intro.indexOf('### What the bundle needs'));
    const documented = [...table.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual([...SEVERITIES]);
  });

  it('documents the retention the baselines and the SLO period need', () => {
    const intro = runbookSections.get('Before you start') ?? '';
    expect(intro).toContain('retention.time=35d');
    expect(intro).toMatch(/3 weeks of history/);
  });

  it.each(alertSections)(
    'section %s has PromQL to confirm the alert, and every block parses with known metrics',
    async (_heading, body) => {
      const blocks = promqlBlocksOf(body);
      expect(blocks.length).toBeGreaterThan(0);
      const exposed = await exposedNames;
      for (const query of blocks) {
        expect(syntaxError(query), query).toBe('');
        expect(
          metricsOf(query).filter((m) => !exposed.has(m) && !recorded.has(m)),
          query,
        ).toEqual([]);
      }
    },
  );

  it.each(alertSections.filter(([heading]) => heading.startsWith('CrmPostgres') || heading.startsWith('CrmRedis')))(
    'section %s says how to confirm it in the database itself (SQL or redis-cli)',
    (heading, body) => {
      expect(
        heading.startsWith('CrmPostgres')
          ? body.includes('```sql') || /`(psql|pg_isready) /.test(body)
          : body.includes('redis-cli'),
      ).toBe(true);
    },
  );
});

describe('alerting/alertmanager.yml', () => {
  const config = yaml.load(read('alerting/alertmanager.yml')) as {
    route: { routes: Array<{ matchers: string[] }> };
    inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[] }>;
  };
  /** The values of the `label="value"` matchers (equality only: `!=`, `=~` and `!~` name no single value). */
  const equalityValues = (matchers: string[], label: string): string[] =>
    matchers.flatMap((m) => {
      const prefix = `${label}="`;
      return m.startsWith(prefix) ? [JSON.parse(m.slice(label.length + 1)) as string] : [];
    });

  it('routes every severity of SEVERITIES, and no other', () => {
    expect(config.route.routes.flatMap((r) => equalityValues(r.matchers, 'severity')).sort()).toEqual(
      [...SEVERITIES].sort(),
    );
  });

  it('inhibits only alerts that exist', () => {
    const names = new Set(everyAlert.map((r) => r.alert));
    const named = config.inhibit_rules.flatMap((rule) => [
      ...equalityValues(rule.source_matchers, 'alertname'),
      ...equalityValues(rule.target_matchers, 'alertname'),
    ]);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !names.has(n))).toEqual([]);
  });
});

describe('the committed bundle', () => {
  const rendered = renderBundle(thresholds);

  it.each([...rendered.keys()])(
    '%s is what alerting/thresholds.yaml renders (run `npm run bundle` after changing it)',
    (path) => {
      expect(read(path)).toBe(rendered.get(path));
    },
  );

  it('has no rule file the generator does not render', () => {
    const renderedRuleFiles = [...rendered.keys()]
      .filter((p) => p.startsWith('alerting/rules/'))
      .map((p) => basename(p));
    expect(readdirSync(join(root, 'alerting/rules')).sort()).toEqual(renderedRuleFiles.sort());
  });
});
