import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/prometheus.js';

/*
 * The generated rules through Prometheus's own tools: `promtool check rules` on alerting/rules/*.yml and
 * `promtool test rules` on every alerting/tests/*.test.yml (globbed: a new test file is picked up without touching
 * this one). Then the coverage the bundle promises: every alert has a firing and a silent case, every recording
 * rule a value check, so a rule added to the generator without a test fails here.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RULES_DIR = join(REPO, 'alerting/rules');
const TESTS_DIR = join(REPO, 'alerting/tests');
const ruleFiles = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith('.rules.yml'))
  .sort();
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort();

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string }> }>;
}
interface TestFile {
  group_eval_order?: string[];
  tests: Array<{
    alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] | null }>;
    promql_expr_test?: Array<{ expr: string }>;
  }>;
}

const rules = ruleFiles.map((f) => yaml.load(readFileSync(join(RULES_DIR, f), 'utf8')) as RuleFile);
const groups = rules.flatMap((r) => r.groups);
const alertNames = [...new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))))];
const recordNames = [...new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))))];
const tests = testFiles.map((f) => ({ file: f, doc: yaml.load(readFileSync(join(TESTS_DIR, f), 'utf8')) as TestFile }));

/** Runs promtool; resolves with its exit code and everything it printed (its failures go to stderr). */
function promtool(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const binary = requireBinary('promtool', 'prometheus');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Metric names a PromQL expression selects, from the real grammar (names contain colons; strings are not names). */
function selectedNames(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return;
      const id = ref.node.getChild('Identifier');
      if (id) names.push(expr.slice(id.from, id.to));
    },
  });
  return names;
}

describe('promtool', () => {
  it('check rules accepts every generated rule file', async () => {
    const { code, output } = await promtool(['check', 'rules', ...ruleFiles], RULES_DIR);
    expect(code, output).toBe(0);
  });

  it.each(testFiles)(
    'test rules passes %s',
    async (file) => {
      // promtool resolves rule_files relative to the test file; the baseline file replays three weeks (about a minute).
      const { code, output } = await promtool(['test', 'rules', file], TESTS_DIR);
      expect(code, output).toBe(0);
    },
    600_000,
  );
});

describe('alerting/tests', () => {
  it('give every alert a firing case and a silent case', () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const { doc } of tests) {
      for (const alertTest of doc.tests.flatMap((t) => t.alert_rule_test ?? [])) {
        ((alertTest.exp_alerts ?? []).length > 0 ? firing : silent).add(alertTest.alertname);
      }
    }
    const missing = alertNames.flatMap((a) => [
      ...(firing.has(a) ? [] : [`${a}: no firing case`]),
      ...(silent.has(a) ? [] : [`${a}: no silent case`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('give every recording rule a value check', () => {
    const checked = new Set(
      tests.flatMap(({ doc }) =>
        doc.tests.flatMap((t) => (t.promql_expr_test ?? []).flatMap((e) => selectedNames(e.expr))),
      ),
    );
    expect(recordNames.filter((r) => !checked.has(r))).toEqual([]);
  });

  it('order only groups that exist (promtool ignores an unknown name, and the order silently falls back)', () => {
    const known = new Set(groups.map((g) => g.name));
    const unknown = tests.flatMap(({ file, doc }) =>
      (doc.group_eval_order ?? []).filter((g) => !known.has(g)).map((g) => `${file}: ${g}`),
    );
    expect(unknown).toEqual([]);
  });
});
