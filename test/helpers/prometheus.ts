import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { freePort } from './net.js';

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

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
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

/** Starts a private Prometheus (Debian's package) scraping the given targets every `interval`. */
export async function startPrometheus(targets: ScrapeTarget[], interval = '1s'): Promise<RunningPrometheus> {
  const binary = requireBinary('prometheus', 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'crm-prom-'));
  const port = await freePort();
  const scrapeConfigs = targets.map(({ job, target, scheme, tls_config, basic_auth }) => ({
    job_name: job,
    scrape_interval: interval,
    scrape_timeout: interval,
    ...(scheme ? { scheme } : {}),
    ...(tls_config ? { tls_config } : {}),
    ...(basic_auth ? { basic_auth } : {}),
    static_configs: [{ targets: [target] }],
  }));
  await writeFile(join(dir, 'prometheus.yml'), yaml.dump({ global: { evaluation_interval: interval }, scrape_configs: scrapeConfigs }));
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 20 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? res.status}`);
      return body.data.result;
    },
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
