import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { freePort } from './net.js';
import { httpOk, startProcess } from './process.js';

/** Fails with a clear message (never skips) when a Debian tool the end-to-end tests need is missing. */
export function requireBinary(name: string, pkg: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error(`${name} is not installed: run scripts/test-deps.sh (or apt-get install ${pkg})`);
  }
  return path;
}

/** Runs `promtool check metrics` on an exposition; returns its findings (empty when clean). */
export function promtoolCheckMetrics(exposition: string): string {
  const promtool = requireBinary('promtool', 'prometheus');
  const result = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim();
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** An entry of /api/v1/alerts: pending or firing. */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** A rule of /api/v1/rules with its last evaluation's health. */
export interface RuleStatus {
  group: string;
  name: string;
  type: 'recording' | 'alerting';
  query: string;
  health: string;
  lastError?: string;
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<Sample[]>;
  /** Every `stepS` seconds from `startMs` to `endMs` (milliseconds since the epoch). */
  queryRange(expr: string, startMs: number, endMs: number, stepS: number): Promise<RangeSeries[]>;
  alerts(): Promise<ActiveAlert[]>;
  rules(): Promise<RuleStatus[]>;
  stop(): Promise<void>;
}

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  scheme?: 'http' | 'https';
  /** Prometheus's tls_config: ca_file, cert_file, key_file, server_name, insecure_skip_verify, min_version ... */
  tls_config?: Record<string, string | boolean>;
  basic_auth?: { username: string; password?: string; password_file?: string };
}

export interface PrometheusOptions {
  /** Scrape and evaluation interval (and scrape timeout). Default 1s. */
  interval?: string;
  /** Rule files by file name, written beside the configuration and loaded at start-up. */
  ruleFiles?: Map<string, string>;
  /** `host:port` of an Alertmanager to send alerts to. */
  alertmanager?: string;
  /**
   * `agent`: Prometheus in agent mode (`--enable-feature=agent`, a WAL under `--storage.agent.path`, no rules, no
   * queries), which only scrapes and remote-writes. Default `server`.
   */
  mode?: 'server' | 'agent';
  /** `global.external_labels`: added to every series the instance sends by remote write (and to its alerts). */
  externalLabels?: Record<string, string>;
  /** Remote-write endpoints (`http://host:port/api/v1/write`), with a 1 s batch deadline so tests see samples soon. */
  remoteWrite?: string[];
  /** Accept remote-written samples at /api/v1/write (`--web.enable-remote-write-receiver`). */
  remoteWriteReceiver?: boolean;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; error?: string; data: T };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

/** Starts a private Prometheus (Debian's package) on 127.0.0.1 scraping the given targets. */
export async function startPrometheus(
  targets: ScrapeTarget[],
  options: PrometheusOptions = {},
): Promise<RunningPrometheus> {
  const binary = requireBinary('prometheus', 'prometheus');
  const interval = options.interval ?? '1s';
  const dir = await mkdtemp(join(tmpdir(), 'crm-prom-'));
  try {
    const ruleFiles: string[] = [];
    for (const [name, content] of options.ruleFiles ?? []) {
      const file = join(dir, name);
      await writeFile(file, content);
      ruleFiles.push(file);
    }
    const agent = options.mode === 'agent';
    if (agent && (ruleFiles.length > 0 || options.alertmanager))
      throw new Error('startPrometheus: an agent evaluates no rules and sends no alerts');
    const config = {
      global: {
        scrape_interval: interval,
        scrape_timeout: interval,
        ...(agent ? {} : { evaluation_interval: interval }),
        ...(options.externalLabels ? { external_labels: options.externalLabels } : {}),
      },
      ...(agent ? {} : { rule_files: ruleFiles }),
      ...(options.remoteWrite
        ? { remote_write: options.remoteWrite.map((url) => ({ url, queue_config: { batch_send_deadline: '1s' } })) }
        : {}),
      ...(options.alertmanager
        ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] } }
        : {}),
      scrape_configs: targets.map(({ job, target, scheme, tls_config, basic_auth }) => ({
        job_name: job,
        ...(scheme ? { scheme } : {}),
        ...(tls_config ? { tls_config } : {}),
        ...(basic_auth ? { basic_auth } : {}),
        static_configs: [{ targets: [target] }],
      })),
    };
    await writeFile(join(dir, 'prometheus.yml'), yaml.dump(config));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const storage = agent
      ? ['--enable-feature=agent', `--storage.agent.path=${join(dir, 'wal')}`]
      : [`--storage.tsdb.path=${join(dir, 'data')}`];
    const proc = await startProcess(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        ...storage,
        ...(options.remoteWriteReceiver ? ['--web.enable-remote-write-receiver'] : []),
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { name: agent ? 'prometheus (agent)' : 'prometheus', ready: () => httpOk(`${url}/-/ready`) },
    );
    return {
      url,
      async query(expr) {
        return (await api<{ result: Sample[] }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
      },
      async queryRange(expr, startMs, endMs, stepS) {
        const params = new URLSearchParams({
          query: expr,
          start: String(startMs / 1000),
          end: String(endMs / 1000),
          step: String(stepS),
        });
        return (await api<{ result: RangeSeries[] }>(`${url}/api/v1/query_range?${params.toString()}`)).result;
      },
      async alerts() {
        return (await api<{ alerts: ActiveAlert[] }>(`${url}/api/v1/alerts`)).alerts;
      },
      async rules() {
        const data = await api<{ groups: Array<{ name: string; rules: Array<Omit<RuleStatus, 'group'>> }> }>(
          `${url}/api/v1/rules`,
        );
        return data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
      },
      async stop() {
        await proc.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
