import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { renderBundle } from '../../src/exporter/bundle/render.js';
import { loadThresholdsFile, parseThresholds } from '../../src/exporter/bundle/thresholds.js';
import type { Thresholds } from '../../src/exporter/bundle/thresholds-schema.js';
import { requireBinary } from '../helpers/prometheus.js';

/*
 * The roles split the exporter's metrics over two kinds of target (docs/kubernetes.md): a *logs* target per CRM pod
 * (access-log numbers and the probe of its own pod) and one *collectors* target (PostgreSQL and Redis). The generated
 * rules must join them as the docs say, in both layouts the docs describe:
 *   - one job for both roles, told apart by a `role` target label and the instance (what deploy/kubernetes/ does,
 *     with the shipped alerting/thresholds.yaml);
 *   - one job per role, with selectors.job naming both (a regex).
 * `promtool test rules` on the rules rendered for each layout, with series from the two targets, checks each rule
 * family against the target that serves it, and that CrmLogStale needs the probe on the log's own target.
 */

interface Layout {
  name: string;
  thresholds: Thresholds;
  logs: Record<string, string>;
  collectors: Record<string, string>;
}

const LAYOUTS: Layout[] = [
  {
    name: 'one job crm-exporter, role label (deploy/kubernetes/, shipped thresholds)',
    thresholds: loadThresholdsFile('alerting/thresholds.yaml'),
    logs: {
      job: 'crm-exporter',
      role: 'logs',
      instance: '10.1.0.5:9464',
      namespace: 'crm',
      pod: 'crm-7d9c8b6f4-x2x9q',
    },
    collectors: {
      job: 'crm-exporter',
      role: 'collectors',
      instance: '10.1.0.9:9464',
      namespace: 'crm',
      pod: 'crm-exporter-collectors-5b7f9-k8v2m',
    },
  },
  {
    name: 'one job per role, selectors.job naming both',
    thresholds: parseThresholds({ selectors: { job: 'crm-exporter-logs|crm-exporter-collectors' } }),
    logs: { job: 'crm-exporter-logs', instance: 'crm-1.example.net:9464' },
    collectors: { job: 'crm-exporter-collectors', instance: 'db-monitor.example.net:9464' },
  },
];

/** A series selector from a metric name and labels (promtool's input_series syntax). */
function series(name: string, ...labelSets: Array<Record<string, string>>): string {
  const labels = Object.entries(Object.assign({}, ...labelSets) as Record<string, string>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`);
  return `${name}{${labels.join(', ')}}`;
}

function firing(
  alertname: string,
  severity: string,
  ...labelSets: Array<Record<string, string>>
): { labels: string; value: number } {
  return { labels: series('ALERTS', { alertname, alertstate: 'firing', severity }, ...labelSets), value: 1 };
}

function promtoolTest(layout: Layout): Record<string, unknown> {
  const { logs: L, collectors: C } = layout;
  const log = { log: 'crm' };
  const route = { log: 'crm', method: 'GET', route: '/api/customers/:id' };
  const inputs = [
    // The logs target: 10 req/s, 10 % of them 5xx; its log's last line at time 0 (stale) while its CRM answers.
    { series: series('crm_http_requests_total', L, route, { status: '200' }), values: '0+540x30' },
    { series: series('crm_http_requests_total', L, route, { status: '500' }), values: '0+60x30' },
    { series: series('crm_log_last_read_timestamp_seconds', L, log), values: '0x30' },
    { series: series('crm_log_lines_total', L, log), values: '1000x30' },
    { series: series('process_start_time_seconds', L), values: '0x30' },
    { series: series('up', L), values: '1x30' },
    // The collectors target: PostgreSQL unreachable, Redis fine, 50 of 100 connections.
    { series: series('crm_pg_up', C), values: '0x30' },
    { series: series('crm_pg_connections', C, { database: 'crm', state: 'idle' }), values: '50x30' },
    { series: series('crm_pg_max_connections', C), values: '100x30' },
    { series: series('crm_redis_up', C), values: '1x30' },
    { series: series('process_start_time_seconds', C), values: '0x30' },
    { series: series('up', C), values: '1x30' },
  ];
  const probeOn = (target: Record<string, string>) => ({ series: series('crm_probe_success', target), values: '1x30' });
  const alertQuery = (name: string) => `ALERTS{alertname="${name}", alertstate="firing"}`;
  const sameJob = L.job === C.job;
  return {
    rule_files: ['crm-recording.rules.yml', 'crm-alerts.rules.yml'],
    evaluation_interval: '1m',
    tests: [
      {
        name: `${layout.name}: each rule family reads the target that serves it`,
        interval: '1m',
        input_series: [...inputs, probeOn(L)],
        promql_expr_test: [
          {
            expr: alertQuery('CrmErrorRatioHigh'),
            eval_time: '20m',
            exp_samples: [firing('CrmErrorRatioHigh', 'critical', { job: L.job as string }, log)],
          },
          {
            expr: alertQuery('CrmPostgresDown'),
            eval_time: '20m',
            exp_samples: [firing('CrmPostgresDown', 'critical', C)],
          },
          { expr: alertQuery('CrmRedisDown'), eval_time: '20m', exp_samples: [] },
          // The log's last line joined with the probe of the same pod (job and instance).
          {
            expr: alertQuery('CrmLogStale'),
            eval_time: '20m',
            exp_samples: [firing('CrmLogStale', 'warning', L, log)],
          },
          {
            expr: 'instance:crm_pg_connections:ratio',
            eval_time: '20m',
            exp_samples: [
              {
                labels: series('instance:crm_pg_connections:ratio', {
                  job: C.job as string,
                  instance: C.instance as string,
                }),
                value: 0.5,
              },
            ],
          },
          {
            expr: 'job_log:crm_http_requests_errors:ratio_rate5m',
            eval_time: '20m',
            exp_samples: [
              {
                labels: series('job_log:crm_http_requests_errors:ratio_rate5m', { job: L.job as string }, log),
                value: 0.1,
              },
            ],
          },
          {
            expr: 'job:crm_probe_success:avg5m',
            eval_time: '20m',
            exp_samples: [{ labels: series('job:crm_probe_success:avg5m', { job: L.job as string }), value: 1 }],
          },
          {
            expr: 'job:up:avg5m',
            eval_time: '20m',
            exp_samples: sameJob
              ? [{ labels: series('job:up:avg5m', { job: L.job as string }), value: 1 }]
              : [L, C].map((t) => ({ labels: series('job:up:avg5m', { job: t.job as string }), value: 1 })),
          },
        ],
      },
      {
        // Why the probe belongs to the logs role: on another target, nothing joins it with the log.
        name: `${layout.name}: CrmLogStale stays silent when only the collectors target probes the CRM`,
        interval: '1m',
        input_series: [...inputs, probeOn(C)],
        promql_expr_test: [
          { expr: alertQuery('CrmLogStale'), eval_time: '20m', exp_samples: [] },
          {
            expr: alertQuery('CrmPostgresDown'),
            eval_time: '20m',
            exp_samples: [firing('CrmPostgresDown', 'critical', C)],
          },
        ],
      },
    ],
  };
}

describe('generated rules across the logs and collectors roles', () => {
  it.each(LAYOUTS.map((l) => [l.name, l] as const))('%s', (_name, layout) => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-roles-'));
    try {
      for (const [path, content] of renderBundle(layout.thresholds)) {
        if (path.endsWith('.rules.yml')) writeFileSync(join(dir, path.split('/').pop() as string), content);
      }
      writeFileSync(join(dir, 'roles.test.yml'), yaml.dump(promtoolTest(layout), { lineWidth: -1 }));
      const r = spawnSync(requireBinary('promtool', 'prometheus'), ['test', 'rules', 'roles.test.yml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the check can fail: a thresholds job regex that misses the collectors job loses the database alert', () => {
    const layout = LAYOUTS[1] as Layout;
    const narrow: Layout = { ...layout, thresholds: parseThresholds({ selectors: { job: 'crm-exporter-logs' } }) };
    const dir = mkdtempSync(join(tmpdir(), 'crm-roles-'));
    try {
      for (const [path, content] of renderBundle(narrow.thresholds)) {
        if (path.endsWith('.rules.yml')) writeFileSync(join(dir, path.split('/').pop() as string), content);
      }
      writeFileSync(join(dir, 'roles.test.yml'), yaml.dump(promtoolTest(narrow), { lineWidth: -1 }));
      const r = spawnSync(requireBinary('promtool', 'prometheus'), ['test', 'rules', 'roles.test.yml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/CrmPostgresDown/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
