import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { freePort } from './net.js';
import { requireBinary } from './prometheus.js';
import { httpOk, startProcess } from './process.js';

/*
 * A private Alertmanager (Debian's prometheus-alertmanager) on 127.0.0.1: a free port, no clustering, storage in a
 * temporary directory removed by stop(). Configured with a YAML text, or with the shipped alerting/alertmanager.yml
 * where only the webhook URLs and the timers are changed (testAlertmanagerConfig).
 */

export const SHIPPED_ALERTMANAGER_CONFIG = new URL('../../alerting/alertmanager.yml', import.meta.url);

interface Route {
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
  [key: string]: unknown;
}

export interface AlertmanagerConfig {
  route: Route;
  receivers: Array<{
    name: string;
    webhook_configs?: Array<{ url: string; [key: string]: unknown }>;
    [key: string]: unknown;
  }>;
  [key: string]: unknown;
}

export interface Timers {
  group_wait: string;
  group_interval: string;
  repeat_interval: string;
}

export const FAST_TIMERS: Timers = { group_wait: '1s', group_interval: '1s', repeat_interval: '1m' };

export async function loadShippedAlertmanagerConfig(): Promise<AlertmanagerConfig> {
  return yaml.load(await readFile(SHIPPED_ALERTMANAGER_CONFIG, 'utf8')) as AlertmanagerConfig;
}

/**
 * A copy of `shipped` whose webhooks post to `webhookBase` + the shipped URL's path (/pages, /tickets), and whose
 * routes use `timers` wherever the shipped file sets a timer (and on the root route). Routes, matchers, grouping,
 * receivers and inhibitions stay as shipped.
 */
export function testAlertmanagerConfig(
  shipped: AlertmanagerConfig,
  webhookBase: string,
  timers: Timers = FAST_TIMERS,
): AlertmanagerConfig {
  const copy = structuredClone(shipped);
  for (const receiver of copy.receivers) {
    for (const hook of receiver.webhook_configs ?? []) hook.url = `${webhookBase}${new URL(hook.url).pathname}`;
  }
  const retime = (route: Route, root: boolean): void => {
    for (const key of Object.keys(timers) as Array<keyof Timers>)
      if (root || route[key] !== undefined) route[key] = timers[key];
    for (const child of route.routes ?? []) retime(child, false);
  };
  retime(copy.route, true);
  return copy;
}

/** An alert as Alertmanager's API v2 returns it (the fields the tests read). */
export interface GettableAlert {
  labels: Record<string, string>;
  fingerprint: string;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

export interface RunningAlertmanager {
  url: string;
  /** `host:port`, for Prometheus's alerting.alertmanagers. */
  address: string;
  /** POST /api/v2/alerts: alerts with these label sets, firing, or resolved at `endsAt`. */
  post(alerts: Array<Record<string, string>>, endsAt?: Date): Promise<void>;
  /** GET /api/v2/alerts. */
  alerts(): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

/** Starts Alertmanager with `config`: a YAML text, or a configuration object (written as YAML). */
export async function startAlertmanager(config: string | AlertmanagerConfig): Promise<RunningAlertmanager> {
  const binary = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = await mkdtemp(join(tmpdir(), 'crm-am-'));
  try {
    await writeFile(join(dir, 'alertmanager.yml'), typeof config === 'string' ? config : yaml.dump(config));
    // The readiness check and Prometheus need the address before it starts: a free port, not port 0.
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const url = `http://${address}`;
    const proc = await startProcess(
      binary,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=${address}`,
        // No gossip port: a private, single Alertmanager.
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { name: 'alertmanager', ready: () => httpOk(`${url}/-/ready`) },
    );
    return {
      url,
      address,
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
