import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Starts a private Prometheus (Debian's package) scraping the given targets every `interval`. */
export async function startPrometheus(targets: Array<{ job: string; target: string }>, interval = '1s'): Promise<RunningPrometheus> {
  const binary = requireBinary('prometheus', 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'crm-prom-'));
  const port = await freePort();
  const scrapeConfigs = targets
    .map((t) => `  - job_name: ${t.job}\n    scrape_interval: ${interval}\n    scrape_timeout: ${interval}\n    static_configs:\n      - targets: ['${t.target}']`)
    .join('\n');
  await writeFile(join(dir, 'prometheus.yml'), `global:\n  evaluation_interval: ${interval}\nscrape_configs:\n${scrapeConfigs}\n`);
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
