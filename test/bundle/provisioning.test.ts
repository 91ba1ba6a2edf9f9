import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandOf, loadCompose, mounts, readYaml, REPO } from '../helpers/compose.js';
import { requireBinary } from '../helpers/prometheus.js';

/*
 * dashboards/provisioning/: Grafana's datasources and dashboard provider, and Prometheus's config for the compose
 * stack. These files name each other (uids, hostnames, paths inside containers, the scrape interval); the checks
 * here keep them agreeing with docker-compose.yml and with each other.
 */
const compose = loadCompose();
const PROVISIONING = 'dashboards/provisioning';

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: Record<string, unknown>;
}
interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval: string };
  rule_files: string[];
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
}

const datasources = readYaml<{ apiVersion: number; datasources: Datasource[] }>(
  `${PROVISIONING}/datasources/datasources.yml`,
);
const providers = readYaml<{
  apiVersion: number;
  providers: Array<{ type: string; folder: string; options: { path: string } }>;
}>(`${PROVISIONING}/dashboards/dashboards.yml`);
const prometheus = readYaml<PrometheusConfig>(`${PROVISIONING}/prometheus/prometheus.yml`);
const byUid = (uid: string): Datasource | undefined => datasources.datasources.find((d) => d.uid === uid);

/** The port a compose service listens on inside the network: the container side of its published port. */
function servicePort(service: string): string | undefined {
  return compose.services[service]?.ports?.[0]?.split(':').at(-1);
}

describe('Grafana datasources', () => {
  it('Prometheus has the uid the dashboards use and points at the compose service', () => {
    const ds = byUid('crm-prometheus');
    expect(ds?.type).toBe('prometheus');
    expect(ds?.url).toBe(`http://prometheus:${servicePort('prometheus')}`);
  });

  it("Prometheus's timeInterval is Prometheus's scrape interval ($__rate_interval depends on it)", () => {
    expect(byUid('crm-prometheus')?.jsonData?.timeInterval).toBe(prometheus.global.scrape_interval);
  });

  it('Alertmanager has its uid, the Prometheus implementation, and points at the compose service', () => {
    const ds = byUid('crm-alertmanager');
    expect(ds?.type).toBe('alertmanager');
    expect(ds?.jsonData?.implementation).toBe('prometheus');
    expect(ds?.url).toBe(`http://alertmanager:${servicePort('alertmanager')}`);
  });

  it('uids are unique', () => {
    const uids = datasources.datasources.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });
});

describe('Grafana dashboard provider', () => {
  it('loads the folder docker-compose.yml mounts the dashboards into, into the folder "CRM"', () => {
    expect(providers.providers).toHaveLength(1);
    const provider = providers.providers[0]!;
    expect(provider.type).toBe('file');
    expect(provider.folder).toBe('CRM');
    const mounted = mounts(compose).find((m) => m.service === 'grafana' && m.source === './dashboards');
    expect(provider.options.path).toBe(mounted?.target);
  });

  it('the provisioning files are mounted where Grafana reads them', () => {
    const targets = Object.fromEntries(
      mounts(compose)
        .filter((m) => m.service === 'grafana')
        .map((m) => [m.source, m.target]),
    );
    expect(targets[`./${PROVISIONING}/datasources`]).toBe('/etc/grafana/provisioning/datasources');
    expect(targets[`./${PROVISIONING}/dashboards`]).toBe('/etc/grafana/provisioning/dashboards');
  });
});

describe('Prometheus', () => {
  const promMounts = mounts(compose).filter((m) => m.service === 'prometheus');
  const configTarget = promMounts.find((m) => m.source === `./${PROVISIONING}/prometheus/prometheus.yml`)?.target;
  const rulesTarget = promMounts.find((m) => m.source === './alerting/rules')?.target;
  const flags = commandOf(compose.services.prometheus!);

  /** The container's /etc/prometheus rebuilt in a temp folder: the config beside the repository's rules. */
  function promtoolCheckConfig(): string {
    const promtool = requireBinary('promtool', 'prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'crm-promconf-'));
    try {
      const configDir = configTarget!.replace(/\/[^/]+$/, '');
      expect(rulesTarget?.startsWith(`${configDir}/`), 'rules are mounted beside the config').toBe(true);
      copyFileSync(join(REPO, PROVISIONING, 'prometheus/prometheus.yml'), join(dir, 'prometheus.yml'));
      if (existsSync(join(REPO, 'alerting/rules')))
        symlinkSync(join(REPO, 'alerting/rules'), join(dir, rulesTarget!.slice(configDir.length + 1)));
      const r = spawnSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      return `${r.stdout}${r.stderr}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('the config file compose mounts is the one Prometheus is started with, and promtool accepts it', () => {
    expect(flags).toContain(`--config.file=${configTarget}`);
    promtoolCheckConfig();
  });

  it('loads every generated rule file (promtool checks each one)', () => {
    const files = existsSync(join(REPO, 'alerting/rules'))
      ? readdirSync(join(REPO, 'alerting/rules')).filter((f) => f.endsWith('.yml'))
      : [];
    expect(files.length, 'alerting/rules/*.yml: no rule files yet').toBeGreaterThan(0);
    expect(promtoolCheckConfig()).toContain(`SUCCESS: ${files.length} rule files found`);
  });

  it('keeps at least 35 days (the baseline compares this week with the three before)', () => {
    const retention = flags.find((f) => f.startsWith('--storage.tsdb.retention.time='))?.split('=')[1];
    // Prometheus's duration units of a day and above; shorter ones could never reach 35 days here anyway.
    const m = /^(\d+)(d|w|y)$/.exec(retention ?? '');
    expect(m, `retention ${retention}`).not.toBeNull();
    const days = Number(m![1]) * { d: 1, w: 7, y: 365 }[m![2] as 'd' | 'w' | 'y'];
    expect(days).toBeGreaterThanOrEqual(35);
  });

  it('scrapes the exporter as job "crm-exporter" at the port it listens on, and itself', () => {
    const jobs = Object.fromEntries(
      prometheus.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]),
    );
    const exporterPort = readYaml<{ listen: string }>('deploy/compose/crm-exporter.yaml').listen.split(':').at(-1);
    expect(jobs).toEqual({
      'crm-exporter': [`crm-exporter:${exporterPort}`],
      prometheus: [`localhost:${servicePort('prometheus')}`],
    });
  });

  it('sends alerts to the compose Alertmanager', () => {
    expect(prometheus.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))).toEqual([
      `alertmanager:${servicePort('alertmanager')}`,
    ]);
  });
});
