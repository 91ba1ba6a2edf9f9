import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { renderBundle, type BundleFiles } from '../../src/exporter/bundle/render.js';
import { loadThresholdsFile, type Thresholds } from '../../src/exporter/bundle/thresholds.js';
import {
  loadShippedAlertmanagerConfig,
  startAlertmanager,
  testAlertmanagerConfig,
  FAST_TIMERS,
  type RunningAlertmanager,
  type Timers,
} from './alertmanager.js';
import { startCrmProcess, startExporterProcess, type CrmProcess, type ExporterProcess } from './programs.js';
import { startPrometheus, type RunningPrometheus } from './prometheus.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/*
 * The whole alerting path on 127.0.0.1, for end-to-end tests of the bundle: reference CRM -> access log ->
 * crm-exporter -> Prometheus (scrape and evaluation every second, rules rendered by renderBundle from a thresholds
 * file) -> Alertmanager (the shipped routing and inhibitions, short timers) -> a webhook receiver in the test.
 * Everything it starts is stopped, and every temporary directory, database and Redis key removed, by stop().
 */

export {
  startAlertmanager,
  testAlertmanagerConfig,
  loadShippedAlertmanagerConfig,
  FAST_TIMERS,
} from './alertmanager.js';
export { startWebhookReceiver, describeEvent } from './webhook-receiver.js';
export type { AlertEvent, Notification, WebhookReceiver } from './webhook-receiver.js';

/** The scrape job name the shipped selectors (selectors.job) expect. */
export const EXPORTER_JOB = 'crm-exporter';

export interface AlertingStackOptions {
  /** Thresholds file the rules are rendered from (windows scaled down for tests). */
  thresholdsFile: string;
  /** Start the exporter's PostgreSQL and Redis collectors too. Default true. */
  databases?: boolean;
  timers?: Timers;
}

export interface AlertingStack {
  crm: CrmProcess;
  exporter: ExporterProcess;
  prometheus: RunningPrometheus;
  alertmanager: RunningAlertmanager;
  webhook: WebhookReceiver;
  thresholds: Thresholds;
  /** The rendered bundle Prometheus loaded (relative path -> content). */
  bundle: BundleFiles;
  stop(): Promise<void>;
}

export async function startAlertingStack(options: AlertingStackOptions): Promise<AlertingStack> {
  const thresholds = loadThresholdsFile(options.thresholdsFile);
  const bundle = renderBundle(thresholds, options.thresholdsFile);
  const ruleFiles = new Map(
    [...bundle]
      .filter(([path]) => path.startsWith('alerting/rules/'))
      .map(([path, content]) => [basename(path), content]),
  );
  const dir = await mkdtemp(join(tmpdir(), 'crm-alerting-'));
  const stops: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const fn of stops.splice(0).reverse()) await fn().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, 'alerting stack: teardown failed');
  };
  try {
    const crm = await startCrmProcess(dir);
    stops.push(async () => void (await crm.stop()));
    const exporter = await startExporterProcess(dir, crm, { databases: options.databases ?? true });
    stops.push(async () => void (await exporter.stop()));
    const webhook = await startWebhookReceiver();
    stops.push(webhook.close);
    const alertmanager = await startAlertmanager(
      testAlertmanagerConfig(await loadShippedAlertmanagerConfig(), webhook.url, options.timers ?? FAST_TIMERS),
    );
    stops.push(alertmanager.stop);
    const prometheus = await startPrometheus([{ job: EXPORTER_JOB, target: exporter.address }], {
      interval: '1s',
      ruleFiles,
      alertmanager: alertmanager.address,
    });
    stops.push(prometheus.stop);
    return { crm, exporter, prometheus, alertmanager, webhook, thresholds, bundle, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
