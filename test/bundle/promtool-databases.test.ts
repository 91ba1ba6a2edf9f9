import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/prometheus.js';
import { rulesOf } from '../helpers/rules.js';
import { parseSelectors } from '../helpers/promql-lint.js';

/*
 * The promtool unit tests of the database alerts and recording rules (alerting/tests/postgres*.test.yml,
 * redis.test.yml) pass on Debian's promtool (Prometheus 2.42), and they cover what they must: every alert of the
 * PostgreSQL and Redis groups and CrmLockContention has a firing case with labels and all three annotations asserted
 * and a silent case; every recording rule of crm-exporter.databases.rules has a value check, and every ratio a case
 * where it is absent.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const TEST_FILES = [
  'alerting/tests/postgres.test.yml',
  'alerting/tests/postgres-long.test.yml',
  'alerting/tests/redis.test.yml',
];

interface PromtoolTestFile {
  tests: Array<{
    alert_rule_test?: Array<{
      alertname: string;
      exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
    }>;
    promql_expr_test?: Array<{ expr: string; exp_samples?: Array<{ labels: string; value: number }> }>;
  }>;
}

const testGroups = TEST_FILES.flatMap(
  (file) => (yaml.load(readFileSync(join(root, file), 'utf8')) as PromtoolTestFile).tests,
);
const alertTests = testGroups.flatMap((g) => g.alert_rule_test ?? []);
const exprTests = testGroups.flatMap((g) => g.promql_expr_test ?? []);

const rules = [
  ...rulesOf(readFileSync(join(root, 'alerting/rules/crm-alerts.rules.yml'), 'utf8'), 'crm-alerts.rules.yml'),
  ...rulesOf(readFileSync(join(root, 'alerting/rules/crm-recording.rules.yml'), 'utf8'), 'crm-recording.rules.yml'),
];
const DATABASE_ALERT_GROUPS = [
  'crm-exporter.postgres.alerts',
  'crm-exporter.postgres-hints.alerts',
  'crm-exporter.redis.alerts',
];
const coveredAlerts = rules
  .filter((r) => r.alert && (DATABASE_ALERT_GROUPS.includes(r.group) || r.alert === 'CrmLockContention'))
  .map((r) => r.alert as string);
const databaseRecords = rules.filter((r) => r.group === 'crm-exporter.databases.rules').map((r) => r.record as string);

describe('promtool test rules: database alerts and recording rules', () => {
  it.each(TEST_FILES)('%s passes', (file) => {
    const result = spawnSync(requireBinary('promtool', 'prometheus'), ['test', 'rules', join(root, file)], {
      encoding: 'utf8',
    });
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('covers the alert groups it is meant to cover', () => {
    expect(coveredAlerts.length).toBeGreaterThanOrEqual(16);
    expect(databaseRecords.length).toBeGreaterThanOrEqual(6);
  });

  it.each(coveredAlerts)('%s has a firing case with labels and every annotation, and a silent case', (alert) => {
    const cases = alertTests.filter((t) => t.alertname === alert);
    const firing = cases.filter((t) => (t.exp_alerts ?? []).length > 0);
    expect(firing.length, 'no firing case').toBeGreaterThan(0);
    for (const expected of firing.flatMap((t) => t.exp_alerts ?? [])) {
      expect(expected.exp_labels?.severity).toBeDefined();
      expect(Object.keys(expected.exp_annotations ?? {}).sort()).toEqual(['description', 'runbook_url', 'summary']);
    }
    expect(
      cases.some((t) => (t.exp_alerts ?? []).length === 0),
      'no silent case',
    ).toBe(true);
  });

  it.each(databaseRecords)('%s has a value check, and a ratio a case where it is absent', (record) => {
    const uses = exprTests.filter((t) => parseSelectors(t.expr).some((s) => s.name === record));
    expect(
      uses.some((t) => (t.exp_samples ?? []).length > 0),
      'no value check',
    ).toBe(true);
    if (record.includes(':ratio'))
      expect(
        uses.some((t) => (t.exp_samples ?? []).length === 0),
        'no absent case',
      ).toBe(true);
  });
});
