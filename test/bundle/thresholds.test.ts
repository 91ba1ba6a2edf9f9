import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { renderBundle } from '../../src/exporter/bundle/render.js';
import { loadThresholdsFile } from '../../src/exporter/bundle/thresholds.js';
import { bundleCommand } from '../../src/exporter/bundle/command.js';
import { requireBinary } from '../helpers/prometheus.js';
import { rulesOfFiles } from '../helpers/rules.js';
import { problemsOf } from '../helpers/config-error.js';

/*
 * alerting/thresholds.yaml is validated like the exporter's configuration: unknown keys rejected, every problem
 * named with its key path, all of them at once; latency thresholds must be bucket boundaries. Good and bad
 * fixture files, then `crm-exporter bundle --check` as CI runs it.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string): string => join(root, 'test/fixtures/thresholds', name);

const thresholdProblems = (file: string): string[] => problemsOf(() => loadThresholdsFile(file));

describe('thresholds file validation', () => {
  it('accepts a customised file and renders rules promtool accepts', async () => {
    const t = loadThresholdsFile(fixture('good.yaml'));
    expect(t.apdex.t).toBe(0.1);
    expect(t.alerts.CrmErrorRatioHigh).toMatchObject({
      threshold: 0.02,
      for: '3m',
      severity: 'critical',
      min_rps: 0.1,
    });
    const files = renderBundle(t, 'good.yaml');
    const rules = rulesOfFiles(files);
    const alert = (name: string) => rules.find((r) => r.alert === name);
    expect(alert('CrmThroughputBelowFloor')).toBeDefined();
    expect(alert('CrmPostgresSeqScanHeavyTable')).toBeUndefined();
    expect(alert('CrmRedisMemoryNearMax')?.labels?.severity).toBe('critical');
    expect(alert('CrmRedisMemoryNearMax')?.for).toBeUndefined();
    expect(alert('CrmErrorBudgetBurnTicket')?.labels?.severity).toBe('info');
    expect(alert('CrmErrorRatioHigh')?.annotations?.runbook_url).toBe(
      'https://wiki.example.com/crm/runbook#crmerrorratiohigh',
    );
    expect(rules.map((r) => r.record)).toContain('job_log:crm_http_requests:rate2m');
    // Apdex counts "tolerating" up to the 4T bucket: 0.4 here, matched as written in the exposition.
    expect(rules.find((r) => r.record === 'job_log:crm_http_requests_apdex:ratio_rate2m')?.expr).toContain(
      'le=~"0\\\\.4"',
    );

    const dir = await mkdtemp(join(tmpdir(), 'crm-thresholds-'));
    try {
      const paths: string[] = [];
      for (const [path, content] of [...files].filter(([p]) => p.endsWith('.rules.yml'))) {
        const target = join(dir, path.replaceAll('/', '_'));
        await writeFile(target, content);
        paths.push(target);
      }
      expect(paths).toHaveLength(2);
      const check = spawnSync(requireBinary('promtool', 'prometheus'), ['check', 'rules', ...paths], {
        encoding: 'utf8',
      });
      expect(`${check.stdout}${check.stderr}`).not.toContain('FAILED');
      expect(check.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown keys, naming each with its key path', () => {
    const problems = thresholdProblems(fixture('unknown-key.yaml'));
    expect(problems).toHaveLength(2);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^alerts\.CrmErrorRatioHigh: .*"threshhold"/),
        expect.stringMatching(/^slo\.latency: .*"treshold"/),
      ]),
    );
  });

  it('rejects an alert name that does not exist', () => {
    expect(thresholdProblems(fixture('many-problems.yaml'))).toContainEqual(
      expect.stringMatching(/^alerts: .*"CrmNoSuchAlert"/),
    );
  });

  it('rejects a latency objective off the bucket boundaries and names the nearest buckets', () => {
    expect(thresholdProblems(fixture('latency-off-bucket.yaml'))).toEqual([
      "slo.latency.threshold: 0.3 is not a bucket boundary of the exporter's histogram (buckets: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10); the nearest are 0.25 and 0.5",
    ]);
  });

  it('rejects an Apdex T whose 4T (the tolerating limit) is off the bucket boundaries', () => {
    expect(thresholdProblems(fixture('apdex-off-bucket.yaml'))).toEqual([
      "apdex.t (4T, the tolerating limit): 0.4 is not a bucket boundary of the exporter's histogram (buckets: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10); the nearest are 0.25 and 0.5",
    ]);
  });

  it('rejects durations that are not Prometheus durations, each with its key path', () => {
    const problems = thresholdProblems(fixture('bad-durations.yaml'));
    expect(problems.map((p) => p.split(': ')[0]).sort()).toEqual([
      'alerts.CrmErrorRatioHigh.for',
      'alerts.CrmLogStale.after',
      'evaluation.rate_window',
      'slo.page.windows[0].long',
      'slo.period',
    ]);
    expect(problems).toContain('slo.period: "30days" is not a Prometheus duration (e.g. 30s, 5m, 1h, 3d)');
  });

  it('lists every problem of a file at once', () => {
    expect(
      thresholdProblems(fixture('many-problems.yaml'))
        .map((p) => p.split(': ')[0])
        .sort(),
    ).toEqual([
      'alerts',
      'alerts.CrmErrorRatioHigh.severity',
      'alerts.CrmErrorRatioHigh.threshold',
      'alerts.CrmLatencyP95High.for',
      'baseline.weeks',
      'selectors.job',
    ]);
  });

  it('lists every cross-key problem at once, nearest buckets included', () => {
    const problems = thresholdProblems(fixture('many-cross-problems.yaml'));
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^slo\.latency\.threshold: 0\.75 .*the nearest are 0\.5 and 1$/),
        expect.stringMatching(/^apdex\.t: 0\.2 .*the nearest are 0\.1 and 0\.5$/),
        expect.stringMatching(/^apdex\.t \(4T, the tolerating limit\): 0\.8 .*the nearest are 0\.5 and 1$/),
        'slo.page.windows[0].short: 1h must be shorter than long (5m)',
        'slo.page.windows[0].long: 5m is shorter than evaluation.rate_window (10m)',
        'evaluation.rollup_window: 5m is shorter than evaluation.rate_window (10m)',
      ]),
    );
  });
});

describe('crm-exporter bundle --check', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function cli(args: string[]) {
    let out = '';
    let err = '';
    const code = bundleCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  }

  it('exits 0 on the committed bundle', async () => {
    const result = await cli(['--thresholds', join(root, 'alerting/thresholds.yaml'), '--out', root, '--check']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
  });

  it.each([
    ['prometheusrule', 'prometheusrule.yaml'],
    ['grafana-dashboards', 'grafana-dashboards.yaml'],
  ])('--format %s: exits 0 on the committed deploy/kubernetes/base/%s', async (format, file) => {
    // As `npm run bundle` runs it, from the repository root: the header names the thresholds file as given.
    const args = ['--thresholds', 'alerting/thresholds.yaml', '--format', format];
    const result = await cli([...args, '--out', 'deploy/kubernetes/base', '--check']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toBe('1 generated files are up to date\n');
    // --out - prints the same file, for `| kubectl apply -f -`.
    const printed = await cli([...args, '--out', '-']);
    expect(printed.code).toBe(0);
    expect(printed.out).toBe(await readFile(join(root, 'deploy/kubernetes/base', file), 'utf8'));
  });

  it('--format prometheusrule: writes one PrometheusRule with every group, and --check names it once stale', async () => {
    const out = await mkdtemp(join(tmpdir(), 'crm-bundle-'));
    dirs.push(out);
    const thresholds = join(out, 'thresholds.yaml');
    await writeFile(thresholds, 'alerts:\n  CrmErrorRatioHigh: { threshold: 0.02 }\n');
    const args = ['--thresholds', thresholds, '--format', 'prometheusrule', '--out', out];
    expect((await cli([...args, '--check'])).err).toContain('prometheusrule.yaml');
    expect((await cli(args)).code).toBe(0);
    expect((await cli([...args, '--check'])).code).toBe(0);
    const rule = yaml.load(await readFile(join(out, 'prometheusrule.yaml'), 'utf8')) as {
      kind: string;
      spec: { groups: unknown[] };
    };
    expect(rule.kind).toBe('PrometheusRule');
    const plain = [...renderBundle(loadThresholdsFile(thresholds))]
      .filter(([p]) => p.endsWith('.rules.yml'))
      .sort(([a], [b]) => b.localeCompare(a));
    expect(rule.spec.groups).toEqual(
      plain.flatMap(([, content]) => (yaml.load(content) as { groups: unknown[] }).groups),
    );
    expect(JSON.stringify(rule)).toContain('> 0.02');
    await writeFile(thresholds, 'alerts:\n  CrmErrorRatioHigh: { threshold: 0.03 }\n');
    const stale = await cli([...args, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('prometheusrule.yaml');
  });

  it('refuses an unknown --format, and --out - with the plain files or --check', async () => {
    const thresholds = ['--thresholds', join(root, 'alerting/thresholds.yaml')];
    const unknown = await cli([...thresholds, '--format', 'helm']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--format must be one of files, prometheusrule, grafana-dashboards, got "helm"/);
    expect((await cli([...thresholds, '--out', '-'])).code).toBe(2);
    expect((await cli([...thresholds, '--format', 'prometheusrule', '--out', '-', '--check'])).code).toBe(2);
  });

  it('exits 1 naming the missing or stale files, and 0 once they are written', async () => {
    const out = await mkdtemp(join(tmpdir(), 'crm-bundle-'));
    dirs.push(out);
    const thresholds = join(out, 'thresholds.yaml');
    await writeFile(thresholds, 'alerts:\n  CrmErrorRatioHigh: { threshold: 0.02 }\n');
    const args = ['--thresholds', thresholds, '--out', out];

    const missing = await cli([...args, '--check']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('alerting/rules/crm-alerts.rules.yml');
    expect(missing.err).toContain('alerting/rules/crm-recording.rules.yml');

    expect((await cli(args)).code).toBe(0);
    const fresh = await cli([...args, '--check']);
    expect(fresh.code).toBe(0);
    expect(fresh.out).toMatch(/up to date/);

    // A hand edit of one generated file: only that file is named.
    const alertsFile = join(out, 'alerting/rules/crm-alerts.rules.yml');
    await writeFile(alertsFile, (await readFile(alertsFile, 'utf8')).replace('> 0.02', '> 0.5'));
    const edited = await cli([...args, '--check']);
    expect(edited.code).toBe(1);
    expect(edited.err).toContain('alerting/rules/crm-alerts.rules.yml');
    expect(edited.err).not.toContain('crm-recording.rules.yml');

    // A changed thresholds file makes the written bundle stale.
    expect((await cli(args)).code).toBe(0);
    await writeFile(thresholds, 'alerts:\n  CrmErrorRatioHigh: { threshold: 0.03 }\n');
    expect((await cli([...args, '--check'])).code).toBe(1);
  });

  it('exits 1 listing the problems of a bad thresholds file, and writes nothing', async () => {
    const out = await mkdtemp(join(tmpdir(), 'crm-bundle-'));
    dirs.push(out);
    const result = await cli(['--thresholds', fixture('many-problems.yaml'), '--out', out]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('alerts.CrmErrorRatioHigh.severity');
    expect(result.err).toContain('selectors.job');
    expect(result.out).toBe('');
  });
});
