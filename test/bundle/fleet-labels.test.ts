import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { FLEET_LABEL } from '../../src/exporter/bundle/rules/promql.js';
import { ruleFiles } from '../../src/exporter/bundle/rules/index.js';
import { loadThresholdsFile } from '../../src/exporter/bundle/thresholds.js';

/*
 * Rules for a fleet keep `cluster` (src/exporter/bundle/rules/promql.ts): every aggregation groups by it, every vector match
 * matches on it, none drops it with `without`/`ignoring`, so the same rules on a central Prometheus, Mimir or
 * Thanos that receives several clusters by remote write give one series per cluster (test/e2e/remote-write.test.ts
 * runs them so). Checked on the real PromQL grammar for the committed rule files and for every thresholds fixture
 * the generator accepts.
 */

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Each grouping of `expr` that loses the fleet label, as `by (job, log)` etc. */
function groupingsWithoutFleetLabel(expr: string): string[] {
  const tree = parser.parse(expr);
  const problems: string[] = [];
  const text = (node: SyntaxNode): string => expr.slice(node.from, node.to);
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) problems.push(`syntax error at ${ref.from}`);
      const node = ref.node;
      if (ref.name === 'AggregateExpr' && !node.getChild('AggregateModifier')) {
        problems.push(`${text(node.firstChild ?? node)} without by (...)`);
        return;
      }
      if (ref.name !== 'GroupingLabels') return;
      const keyword = node.prevSibling?.name;
      const labels = node.getChildren('LabelName').map(text);
      const has = labels.includes(FLEET_LABEL);
      if ((keyword === 'By' || keyword === 'On') && !has) problems.push(`${keyword.toLowerCase()} ${text(node)}`);
      if ((keyword === 'Without' || keyword === 'Ignoring') && has)
        problems.push(`${keyword.toLowerCase()} ${text(node)}`);
    },
  });
  return problems;
}

interface Group {
  name: string;
  rules: Array<{ alert?: string; record?: string; expr: string }>;
}

function problemsOf(files: Array<[string, Group[]]>): string[] {
  const out: string[] = [];
  for (const [file, groups] of files) {
    for (const group of groups) {
      for (const rule of group.rules) {
        for (const p of groupingsWithoutFleetLabel(rule.expr))
          out.push(`${file} ${group.name} ${rule.record ?? rule.alert}: ${p}`);
      }
    }
  }
  return out;
}

describe('generated rules keep the fleet label', () => {
  it('finds a grouping that drops it (the check can fail)', () => {
    expect(groupingsWithoutFleetLabel('sum by (job, log) (rate(x[5m])) / on (job) group_left () y')).toEqual([
      'by (job, log)',
      'on (job)',
    ]);
    expect(groupingsWithoutFleetLabel('sum(x) + avg without (cluster) (y) and ignoring (cluster) z')).toEqual([
      'sum without by (...)',
      'without (cluster)',
      'ignoring (cluster)',
    ]);
    expect(
      groupingsWithoutFleetLabel(
        'sum by (cluster, job) (x) / on (cluster, job) group_left () y and quantile without (offset) (0.5, z)',
      ),
    ).toEqual([]);
  });

  it('in the committed alerting/rules/*.yml', () => {
    const dir = join(REPO, 'alerting/rules');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yml'))
      .map((f): [string, Group[]] => [
        f,
        (yaml.load(readFileSync(join(dir, f), 'utf8')) as { groups: Group[] }).groups,
      ]);
    expect(files.length).toBeGreaterThan(0);
    expect(problemsOf(files)).toEqual([]);
  });

  const fixtures = ['e2e.yaml', 'good.yaml'];
  it.each(fixtures)('in the rules rendered from test/fixtures/thresholds/%s', (fixture) => {
    const t = loadThresholdsFile(join(REPO, 'test/fixtures/thresholds', fixture));
    expect(problemsOf(Object.entries(ruleFiles(t)))).toEqual([]);
  });
});
