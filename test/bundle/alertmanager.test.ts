import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/prometheus.js';
import { startAlertmanager, type GettableAlert, type RunningAlertmanager } from '../helpers/alertmanager.js';
import { rulesOf } from '../helpers/rules.js';

/*
 * alerting/alertmanager.yml with Debian's Alertmanager 0.25: amtool validates it and shows where each severity
 * goes; a real Alertmanager, fed alerts with the label sets of the bundle's alerts through its API, shows which
 * inhibitions apply (status.inhibitedBy) and which do not.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const configFile = join(root, 'alerting/alertmanager.yml');
const alertRules = rulesOf(
  readFileSync(join(root, 'alerting/rules/crm-alerts.rules.yml'), 'utf8'),
  'crm-alerts.rules.yml',
).filter((r) => r.alert);

function amtool(args: string[]): { status: number | null; stdout: string; output: string } {
  const result = spawnSync(requireBinary('amtool', 'prometheus-alertmanager'), args, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout.trim(), output: `${result.stdout}${result.stderr}` };
}

const routeOf = (labels: string[]): string => {
  const result = amtool(['config', 'routes', 'test', `--config.file=${configFile}`, ...labels]);
  expect(result.status, result.output).toBe(0);
  return result.stdout;
};

describe('alerting/alertmanager.yml with amtool', () => {
  it('passes amtool check-config', () => {
    const result = amtool(['check-config', configFile]);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it.each([
    [['severity=critical'], 'crm-pages'],
    [['severity=warning'], 'crm-tickets'],
    [['severity=info'], 'crm-null'],
    [
      ['alertname=CrmErrorBudgetBurnPage', 'job=crm-exporter', 'log=crm', 'slo=availability', 'severity=critical'],
      'crm-pages',
    ],
    [
      ['alertname=CrmErrorBudgetBurnTicket', 'job=crm-exporter', 'log=crm', 'slo=latency', 'severity=warning'],
      'crm-tickets',
    ],
    [
      [
        'alertname=CrmPostgresSeqScanHeavyTable',
        'job=crm-exporter',
        'database=crm',
        'schema=public',
        'table=customers',
        'severity=info',
      ],
      'crm-null',
    ],
    // An alert from some other rule set, without a severity, is not lost: the root route opens a ticket.
    [['alertname=SomethingElse'], 'crm-tickets'],
  ])('amtool config routes test %j -> %s', (labels, receiver) => {
    expect(routeOf(labels)).toBe(receiver);
  });

  const receiverOf: Record<string, string> = { critical: 'crm-pages', warning: 'crm-tickets', info: 'crm-null' };
  it.each(alertRules.map((r) => [r.alert, r.labels?.severity ?? ''] as const))(
    '%s (%s) reaches the receiver of its severity',
    (alert, severity) => {
      expect(routeOf([`alertname=${alert}`, 'job=crm-exporter', `severity=${severity}`])).toBe(receiverOf[severity]);
    },
  );
});

describe('alerting/alertmanager.yml inhibitions in a running Alertmanager', () => {
  let am: RunningAlertmanager;
  let webhook: Server;
  let config: string;

  beforeAll(async () => {
    // Notifications go to a receiver of this test, not to the shipped 127.0.0.1:5001; routes and inhibitions are
    // the file's own.
    webhook = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const port = (webhook.address() as AddressInfo).port;
    const document = yaml.load(readFileSync(configFile, 'utf8')) as {
      receivers: Array<{ webhook_configs?: Array<{ url: string }> }>;
    };
    for (const receiver of document.receivers) {
      for (const hook of receiver.webhook_configs ?? [])
        hook.url = `http://127.0.0.1:${port}${new URL(hook.url).pathname}`;
    }
    config = yaml.dump(document);
  });

  afterAll(async () => {
    await new Promise((resolve) => webhook?.close(resolve));
  });

  // A fresh Alertmanager per case: an alert left firing by one case cannot inhibit the next one's.
  beforeEach(async () => {
    am = await startAlertmanager(config);
  });

  afterEach(async () => {
    await am?.stop();
  });

  /** Polls GET /api/v2/alerts until `done` holds for the alerts (the inhibitor learns of sources asynchronously). */
  async function alertsWhen(done: (alerts: GettableAlert[]) => boolean): Promise<GettableAlert[]> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const alerts = await am.alerts();
      if (done(alerts) || Date.now() > deadline) return alerts;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const find = (alerts: GettableAlert[], labels: Record<string, string>): GettableAlert | undefined =>
    alerts.find(
      (a) =>
        Object.keys(labels).length === Object.keys(a.labels).length &&
        Object.entries(labels).every(([k, v]) => a.labels[k] === v),
    );

  const inhibitedBy = (alerts: GettableAlert[], labels: Record<string, string>): string[] | undefined =>
    find(alerts, labels)?.status.inhibitedBy;

  it('CrmExporterDown inhibits CrmLogStale of the same job and instance only, and only while it fires', async () => {
    const job = 'crm-exporter';
    const down = { alertname: 'CrmExporterDown', severity: 'critical', job, instance: '127.0.0.1:9464' };
    const staleSame = { alertname: 'CrmLogStale', severity: 'warning', job, instance: '127.0.0.1:9464', log: 'crm' };
    const staleOther = { alertname: 'CrmLogStale', severity: 'warning', job, instance: '10.0.0.7:9464', log: 'crm' };
    await am.post([down, staleSame, staleOther]);

    const alerts = await alertsWhen((all) => (inhibitedBy(all, staleSame)?.length ?? 0) > 0);
    const downFingerprint = find(alerts, down)?.fingerprint;
    expect(downFingerprint).toBeDefined();
    expect(inhibitedBy(alerts, staleSame)).toEqual([downFingerprint]);
    expect(find(alerts, staleSame)?.status.state).toBe('suppressed');
    // Same snapshot, same source in the inhibitor: another instance and the source itself stay active.
    expect(inhibitedBy(alerts, staleOther)).toEqual([]);
    expect(find(alerts, staleOther)?.status.state).toBe('active');
    expect(inhibitedBy(alerts, down)).toEqual([]);

    // The exporter is back: the log alert is no longer inhibited.
    await am.post([{ ...down }], new Date());
    const after = await alertsWhen((all) => inhibitedBy(all, staleSame)?.length === 0);
    expect(inhibitedBy(after, staleSame)).toEqual([]);
  });

  it('CrmErrorBudgetBurnPage inhibits the ticket of the same SLO, not the ticket of the other SLO', async () => {
    const job = 'crm-exporter';
    const page = { alertname: 'CrmErrorBudgetBurnPage', severity: 'critical', job, log: 'crm', slo: 'availability' };
    const ticketSame = {
      alertname: 'CrmErrorBudgetBurnTicket',
      severity: 'warning',
      job,
      log: 'crm',
      slo: 'availability',
    };
    const ticketOther = { alertname: 'CrmErrorBudgetBurnTicket', severity: 'warning', job, log: 'crm', slo: 'latency' };
    await am.post([page, ticketSame, ticketOther]);

    const alerts = await alertsWhen((all) => (inhibitedBy(all, ticketSame)?.length ?? 0) > 0);
    expect(inhibitedBy(alerts, ticketSame)).toEqual([find(alerts, page)?.fingerprint]);
    expect(inhibitedBy(alerts, ticketOther)).toEqual([]);
    expect(inhibitedBy(alerts, page)).toEqual([]);
  });

  it('CrmPostgresDown inhibits the other PostgreSQL alerts and the failing collector of its exporter, not the Redis ones', async () => {
    const job = 'crm-exporter';
    const instance = '10.0.0.8:9464';
    const down = { alertname: 'CrmPostgresDown', severity: 'critical', job, instance };
    const connections = { alertname: 'CrmPostgresConnectionsNearMax', severity: 'warning', job, instance };
    const collector = { alertname: 'CrmCollectorFailing', severity: 'warning', job, instance, collector: 'postgres' };
    const redis = { alertname: 'CrmRedisMemoryNearMax', severity: 'warning', job, instance };
    await am.post([down, connections, collector, redis]);

    const alerts = await alertsWhen(
      (all) => (inhibitedBy(all, connections)?.length ?? 0) > 0 && (inhibitedBy(all, collector)?.length ?? 0) > 0,
    );
    const source = find(alerts, down)?.fingerprint;
    expect(inhibitedBy(alerts, connections)).toEqual([source]);
    expect(inhibitedBy(alerts, collector)).toEqual([source]);
    expect(inhibitedBy(alerts, redis)).toEqual([]);
    expect(inhibitedBy(alerts, down)).toEqual([]);
  });
});
