import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LoadSummary } from '../../src/loadgen/runner.js';
import { serviceNames } from '../../src/exporter/bundle/rules/recording.js';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboardQueries, substituteVariables } from '../../src/exporter/bundle/dashboards/queries.js';
import { EXPORTER_JOB } from '../helpers/alerting-stack.js';
import { startCrmProcess, startExporterProcess, type CrmProcess, type ExporterProcess } from '../helpers/programs.js';
import { startPrometheus, type RunningPrometheus, type Sample } from '../helpers/prometheus.js';

/*
 * Remote write on one machine, the way a fleet runs it: in each of two "clusters" a Prometheus in agent mode
 * (Debian's 2.42, `--enable-feature=agent`) scrapes its own crm-exporter and remote-writes everything, with
 * `external_labels: {cluster: ...}`, to a central Prometheus that scrapes nothing itself, accepts remote write
 * (`--web.enable-remote-write-receiver`) and evaluates the shipped rule files (alerting/rules/*.yml, as
 * committed). Both exporters tail the reference CRM's access log under the load generator and sample its
 * PostgreSQL and Redis.
 *
 * On the central Prometheus the recording rules of the four numbers (throughput, error ratio, latency quantiles,
 * availability) must have one series per cluster: those rules aggregate `instance` away by design (a service's
 * number over all its exporters), and must keep `cluster`, or two clusters' traffic would be summed into one
 * series. The per-instance rules (PostgreSQL, Redis) keep both `cluster` and `instance`.
 */

const RULES_DIR = fileURLToPath(new URL('../../alerting/rules/', import.meta.url));
const DASHBOARDS_DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));
const CLUSTERS = ['east', 'west'] as const;
const n = serviceNames('5m');

let dirs: string[] = [];
let crm: CrmProcess;
const exporters = new Map<string, ExporterProcess>();
const agents = new Map<string, RunningPrometheus>();
let central: RunningPrometheus;
const loadStop = new AbortController();
let load: Promise<LoadSummary> | undefined;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crm-remote-write-'));
  dirs.push(dir);
  crm = await startCrmProcess(dir);
  load = runLoad({
    url: crm.url,
    durationMs: 5 * 60_000,
    rate: 10,
    scenario: 'steady',
    adminToken: crm.adminToken,
    signal: loadStop.signal,
  });
  const ruleFiles = new Map<string, string>();
  for (const name of (await readdir(RULES_DIR)).filter((f) => f.endsWith('.yml')))
    ruleFiles.set(name, await readFile(join(RULES_DIR, name), 'utf8'));
  central = await startPrometheus([], { interval: '1s', ruleFiles, remoteWriteReceiver: true });
  for (const cluster of CLUSTERS) {
    const exporterDir = await mkdtemp(join(tmpdir(), `crm-remote-write-${cluster}-`));
    dirs.push(exporterDir);
    const exporter = await startExporterProcess(exporterDir, crm);
    exporters.set(cluster, exporter);
    agents.set(
      cluster,
      await startPrometheus([{ job: EXPORTER_JOB, target: exporter.address }], {
        mode: 'agent',
        interval: '1s',
        externalLabels: { cluster },
        remoteWrite: [`${central.url}/api/v1/write`],
      }),
    );
  }
}, 90_000);

afterAll(async () => {
  loadStop.abort();
  await load?.catch(() => undefined);
  for (const agent of agents.values()) await agent.stop();
  await central?.stop();
  for (const exporter of exporters.values()) await exporter.stop();
  await crm?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  dirs = [];
}, 60_000);

/** Labels of a sample without the metric name. */
const labelsOf = (s: Sample): Record<string, string> =>
  Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== '__name__'));
const byCluster = (samples: Sample[]): Sample[] =>
  [...samples].sort((a, b) => (a.metric.cluster ?? '').localeCompare(b.metric.cluster ?? ''));

/** Polls the central Prometheus until `expr` has a series for every cluster (the rules evaluate every second). */
async function everyCluster(expr: string, timeoutMs = 45_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await central.query(expr);
    if (CLUSTERS.every((c) => samples.some((s) => s.metric.cluster === c))) return byCluster(samples);
    if (Date.now() > deadline)
      throw new Error(
        `${expr}: no series for every cluster within ${timeoutMs / 1000} s, got ${JSON.stringify(samples.map((s) => s.metric))}`,
      );
    await sleep(1_000);
  }
}

describe('Prometheus agents remote-writing to a central Prometheus with the shipped rules', () => {
  it('receives the exporters’ series with the cluster and instance labels of their agent', async () => {
    const raw = await everyCluster(`count by (cluster, instance, job) (crm_http_requests_total)`);
    expect(raw.map(labelsOf)).toEqual(
      CLUSTERS.map((cluster) => ({ cluster, instance: exporters.get(cluster)?.address, job: EXPORTER_JOB })),
    );
    // Nothing on the central Prometheus comes from elsewhere: it scrapes nothing, every `up` is an agent's (polled:
    // remote write shards series, so a scrape's `up` may arrive a batch after its other samples).
    expect((await everyCluster('count by (cluster) (up)')).map(labelsOf)).toEqual(
      CLUSTERS.map((cluster) => ({ cluster })),
    );
  }, 60_000);

  it.each([
    ['throughput', n.requests, (v: number) => v > 0],
    ['error ratio', n.errorRatio, (v: number) => v >= 0 && v <= 1],
    ['latency p50', n.quantile('p50'), (v: number) => v > 0],
    ['latency p95', n.quantile('p95'), (v: number) => v > 0],
    ['latency p99', n.quantile('p99'), (v: number) => v > 0],
  ])(
    'records the %s (%s) once per cluster, instance aggregated away as the rule says',
    async (_what, record, valid) => {
      const samples = await everyCluster(record);
      expect(samples.map(labelsOf)).toEqual(CLUSTERS.map((cluster) => ({ cluster, job: EXPORTER_JOB, log: 'crm' })));
      for (const s of samples)
        expect(valid(Number(s.value[1])), `${record}${JSON.stringify(s.metric)} = ${s.value[1]}`).toBe(true);
    },
    50_000,
  );

  it('records the per-route p95 per cluster and route', async () => {
    const samples = await everyCluster(`${n.routeQuantile('p95')}{route="/api/customers/:id"}`);
    expect(samples.map(labelsOf)).toEqual(
      CLUSTERS.map((cluster) => ({ cluster, job: EXPORTER_JOB, log: 'crm', route: '/api/customers/:id' })),
    );
    for (const s of samples) expect(Number(s.value[1])).toBeGreaterThan(0);
  }, 50_000);

  it.each([
    ['availability from the probe', n.probeAvailability],
    ['availability from up', n.upAvailability],
  ])(
    'records the %s (%s) once per cluster',
    async (_what, record) => {
      const samples = await everyCluster(record);
      expect(samples.map(labelsOf)).toEqual(CLUSTERS.map((cluster) => ({ cluster, job: EXPORTER_JOB })));
      // Every probe of the healthy CRM and (almost) every scrape succeeded: a share, far from 0.
      for (const s of samples) expect(Number(s.value[1])).toBeGreaterThan(0.5);
      for (const s of samples) expect(Number(s.value[1])).toBeLessThanOrEqual(1);
    },
    50_000,
  );

  it('keeps cluster and instance on the per-instance database rules', async () => {
    const connections = await everyCluster(n.pgConnectionsRatio);
    expect(connections.map(labelsOf)).toEqual(
      CLUSTERS.map((cluster) => ({ cluster, instance: exporters.get(cluster)?.address, job: EXPORTER_JOB })),
    );
    const blocks = await everyCluster(n.pgCacheHitRatio);
    expect(blocks.map(labelsOf)).toEqual(
      CLUSTERS.map((cluster) => ({
        cluster,
        instance: exporters.get(cluster)?.address,
        job: EXPORTER_JOB,
        database: crm.db.name,
      })),
    );
  }, 50_000);

  it('evaluates every rule without an error, and the agents lost no sample', async () => {
    const failing = (await central.rules()).filter((r) => r.lastError || (r.health !== 'ok' && r.health !== 'unknown'));
    expect(failing.map((r) => `${r.group}/${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    for (const [cluster, agent] of agents) {
      const text = await (await fetch(`${agent.url}/metrics`)).text();
      const value = (name: string): number =>
        text
          .split('\n')
          .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      expect(value('prometheus_remote_storage_samples_total'), cluster).toBeGreaterThan(0);
      expect(value('prometheus_remote_storage_samples_failed_total'), cluster).toBe(0);
    }
  });

  it('serves the dashboards per cluster: each panel query reads only the clusters the cluster variable selects', async () => {
    const dashboards: Dashboard[] = [];
    for (const name of (await readdir(DASHBOARDS_DIR)).filter((f) => f.endsWith('.json')))
      dashboards.push(JSON.parse(await readFile(join(DASHBOARDS_DIR, name), 'utf8')) as Dashboard);
    const queries = dashboardQueries(dashboards);
    expect(queries.length).toBeGreaterThan(50);
    const route = '/api/customers/:id';
    const evaluate = (expr: string, cluster: string) =>
      central.query(substituteVariables(expr, { cluster, route, __rate_interval: '1m' }));
    // A cluster that does not exist: every query is empty (each selector filters on $cluster).
    const leaking: string[] = [];
    for (const q of queries)
      if ((await evaluate(q.expr, 'no-such-cluster')).length > 0) leaking.push(`${q.uid} / ${q.panel} / ${q.refId}`);
    expect(leaking).toEqual([]);
    // One cluster: the overview's per-log throughput is that cluster's recorded number, the other's is not in it.
    const throughput = queries.find((q) => q.uid === 'crm-overview' && q.expr.startsWith(`${n.requests}{`));
    expect(throughput, 'the overview reads the recorded throughput per log').toBeDefined();
    const all = await evaluate(throughput!.expr, '.*');
    expect(all.map((s) => s.metric.cluster).sort()).toEqual([...CLUSTERS]);
    for (const cluster of CLUSTERS) {
      const one = await evaluate(throughput!.expr, cluster);
      expect(one.map((s) => s.metric.cluster)).toEqual([cluster]);
    }
  }, 60_000);
});
