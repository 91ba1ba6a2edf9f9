import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { requireBinary } from './prometheus.js';

/** An alert as Alertmanager's API v2 returns it (the fields the tests read). */
export interface GettableAlert {
  labels: Record<string, string>;
  fingerprint: string;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

export interface RunningAlertmanager {
  url: string;
  /** POST /api/v2/alerts: alerts with these label sets, firing, or resolved at `endsAt`. */
  post(alerts: Array<Record<string, string>>, endsAt?: Date): Promise<void>;
  /** GET /api/v2/alerts. */
  alerts(): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

/**
 * Starts a private Alertmanager (Debian's package) with the given configuration: 127.0.0.1 on a free port,
 * clustering off (`--cluster.listen-address=`), its storage in a temporary directory removed by stop().
 */
export async function startAlertmanager(configYaml: string): Promise<RunningAlertmanager> {
  const binary = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = await mkdtemp(join(tmpdir(), 'crm-am-'));
  await writeFile(join(dir, 'alertmanager.yml'), configYaml);
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager exited: ${stderr}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready in 20 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async post(alerts, endsAt) {
      const body = alerts.map((labels) => ({
        labels,
        annotations: { summary: 'test' },
        ...(endsAt
          ? { startsAt: new Date(endsAt.getTime() - 60_000).toISOString(), endsAt: endsAt.toISOString() }
          : { startsAt: new Date().toISOString() }),
      }));
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
    },
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`);
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status} ${await res.text()}`);
      return (await res.json()) as GettableAlert[];
    },
    stop,
  };
}
