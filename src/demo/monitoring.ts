import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';

/*
 * The demo's monitoring half: Prometheus with the bundle's generated rules and Alertmanager with the bundle's
 * routing, when their binaries are installed (Debian: prometheus, prometheus-alertmanager). Alertmanager's
 * webhook receivers are pointed at a small receiver in this process that prints every notification, so injecting
 * a fault shows the alert arrive and resolve in the terminal. Grafana is a docker-compose-only part.
 */

export interface Monitoring {
  lines: string[];
  close(): Promise<void>;
}

type Say = (line: string) => void;

function findBinary(names: string[]): string | undefined {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} (port in use? see var/demo/${what}.log)`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready within 20 s`);
}

function startWebhookReceiver(say: Say): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const payload = JSON.parse(body) as {
          status: string;
          alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
        };
        for (const alert of payload.alerts) {
          say(
            `alert ${alert.status.toUpperCase()} ${alert.labels.alertname} (${alert.labels.severity}, ${req.url?.slice(1)}): ${alert.annotations.description ?? ''}`,
          );
        }
      } catch {
        say('alertmanager sent a notification that is not JSON');
      }
      res.end();
    });
  });
  return new Promise((resolveStart) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolveStart({ server, url: `http://127.0.0.1:${port}` });
    }),
  );
}

/** Starts what is installed; returns the lines to print (URLs, or how to install what is missing). */
export async function startMonitoring(options: {
  exporterUrl: string;
  workDir: string;
  say: Say;
}): Promise<Monitoring> {
  const promBinary = findBinary(['prometheus']);
  const amBinary = findBinary(['prometheus-alertmanager', 'alertmanager']);
  const promPort = Number(process.env.PROMETHEUS_PORT ?? 9090);
  const amPort = Number(process.env.ALERTMANAGER_PORT ?? 9093);
  const children: ChildProcess[] = [];
  const lines: string[] = [];
  let receiver: Server | undefined;
  const dir = resolve(options.workDir);
  mkdirSync(dir, { recursive: true });
  if (!promBinary || !amBinary) {
    lines.push(
      'Prometheus and Alertmanager are not installed: `sudo apt-get install prometheus prometheus-alertmanager` (Debian) to run the rules and alerts too',
    );
  }
  if (amBinary) {
    const hook = await startWebhookReceiver(options.say);
    receiver = hook.server;
    const config = yaml.load(readFileSync('alerting/alertmanager.yml', 'utf8')) as {
      receivers: Array<{ webhook_configs?: Array<{ url: string }> }>;
    };
    for (const r of config.receivers)
      for (const w of r.webhook_configs ?? []) w.url = `${hook.url}${new URL(w.url).pathname}`;
    writeFileSync(join(dir, 'alertmanager.yml'), yaml.dump(config));
    const child = spawn(
      amBinary,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    children.push(child);
    await waitReady(`http://127.0.0.1:${amPort}/-/ready`, child, 'alertmanager');
    lines.push(`alertmanager     http://127.0.0.1:${amPort}/  (notifications are printed here)`);
  }
  if (promBinary) {
    const rules = readdirSync('alerting/rules')
      .filter((f) => f.endsWith('.yml'))
      .map((f) => resolve('alerting/rules', f));
    const target = new URL(options.exporterUrl).host;
    const config = {
      global: { scrape_interval: '5s', evaluation_interval: '5s' },
      rule_files: rules,
      ...(amBinary
        ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] } }
        : {}),
      scrape_configs: [{ job_name: 'crm-exporter', static_configs: [{ targets: [target] }] }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), yaml.dump(config));
    const child = spawn(
      promBinary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    children.push(child);
    await waitReady(`http://127.0.0.1:${promPort}/-/ready`, child, 'prometheus');
    lines.push(
      `prometheus       http://127.0.0.1:${promPort}/alerts  (rules from alerting/rules/, 5 s scrape and evaluation)`,
    );
  }
  return {
    lines,
    async close() {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    },
  };
}
