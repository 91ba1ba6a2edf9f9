import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { freePort } from './net.js';
import { requireBinary } from './prometheus.js';
import { httpOk, startProcess } from './process.js';

/*
 * A private Alertmanager (Debian's prometheus-alertmanager) on 127.0.0.1, no clustering, temporary storage,
 * configured from the shipped alerting/alertmanager.yml with only the webhook URLs and the timers changed.
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

export interface RunningAlertmanager {
  url: string;
  /** `host:port`, for Prometheus's alerting.alertmanagers. */
  address: string;
  stop(): Promise<void>;
}

export async function startAlertmanager(config: AlertmanagerConfig): Promise<RunningAlertmanager> {
  const binary = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = await mkdtemp(join(tmpdir(), 'crm-am-'));
  try {
    await writeFile(join(dir, 'alertmanager.yml'), yaml.dump(config));
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
