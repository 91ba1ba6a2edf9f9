/*
 * bench:rules: what the generated rules cost Prometheus to evaluate, against the same SLOs written the naive way
 * (`rate(x[30d])` over raw series, as unoptimised SLO generators do).
 *
 *   npm run bench:rules [-- --write-results]      (BENCH_ROUTES=50 BENCH_INSTANCES=4 BENCH_DAYS=35)
 *
 * 35 days of history are backfilled with `promtool tsdb create-blocks-from openmetrics`: for 50 routes x 4
 * instances, the raw series the SLOs read (requests by status, the 0.5 s bucket and the count) once a minute,
 * the full histograms for the last two hours (the 5-minute rules read no further back), and the job-level series
 * our rules record and later read over days (5-minute rates, hourly roll-ups), as Prometheus would have recorded
 * them. Once a minute, not at a 15 s scrape interval: 41 M samples instead of 165 M, and the naive form, which reads
 * raw samples, is the one this flatters. The OpenMetrics is written one 54h block at a time, each block converted by
 * its own promtool while the next is written. A private Prometheus (Debian's) then evaluates each rule set on that
 * TSDB, and prometheus_rule_group_last_duration_seconds is read per group after several evaluations.
 */
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { writeResultsSection } from './results-file.js';
import { evaluate, median, ms, promVersion, repoRoot } from './rules/prometheus.js';

const ROUTES = Number(process.env.BENCH_ROUTES ?? 50);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 4);
const DAYS = Number(process.env.BENCH_DAYS ?? 35);
const WAIT_S = Number(process.env.BENCH_WAIT_S ?? 200);
const JOBS = Number(process.env.BENCH_JOBS ?? 2); // promtools at a time while backfilling
const STEP = 60; // seconds between backfilled samples
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const SHARE = [0.05, 0.2, 0.45, 0.7, 0.9, 0.97, 0.992, 0.998, 0.9995, 1, 1, 1];

/** Requests per second of one route on one instance at time t (daily seasonality, ~1 req/s on average). */
const OMEGA = (2 * Math.PI) / 86400;
const rps = (t: number): number => 1 + 0.8 * Math.sin(OMEGA * t);
/** Requests of one route on one instance from `from` to t: the integral of rps, so any window can be written alone. */
const requestsBetween = (from: number, t: number): number =>
  t - from + (0.8 / OMEGA) * (Math.cos(OMEGA * from) - Math.cos(OMEGA * t));

/**
 * Blocks of 54h: what Prometheus itself compacts to when retention is 60 days (its largest block is a tenth of the
 * retention, taken from 2h x 3^n), so the bench's Prometheus reads the layout it would have and compacts nothing
 * while being measured. promtool re-reads its whole input file for every block it writes, so each block gets a file
 * of its own: 35 days in one file would be parsed 420 times at the default 2h block size.
 */
const BLOCK_SECONDS = 54 * 3600;

/** Writes the samples of [from, to) (one block) as OpenMetrics; returns how many. */
async function writeBlockFile(file: string, start: number, end: number, from: number, to: number): Promise<number> {
  const out = createWriteStream(file);
  let samples = 0;
  let chunk: string[] = [];
  let chunkLength = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const ok = out.write(chunk.join(''));
    chunk = [];
    chunkLength = 0;
    if (!ok) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  const write = async (line: string): Promise<void> => {
    samples++;
    chunk.push(line);
    chunkLength += line.length;
    if (chunkLength > 1 << 20) await flush();
  };
  // Sample times of this block: the run's STEP grid from `start`, within [from, to) and [start, end].
  const first = start + Math.ceil(Math.max(0, from - start) / STEP) * STEP;
  const last = Math.min(end, to - 1);
  const target = (i: number): string => `job="crm-exporter",instance="crm-${i}:9464",log="crm"`;
  const counter = async (name: string, labels: string, share: number, since: number): Promise<void> => {
    for (let t = Math.max(first, since); t <= last; t += STEP)
      await write(`${name}{${labels}} ${(share * requestsBetween(start, t)).toFixed(2)} ${t}\n`);
  };
  const recentFrom = end - 2 * 3600;
  for (const [status, share] of [
    ['200', 0.999],
    ['500', 0.001],
  ] as const) {
    for (let i = 0; i < INSTANCES; i++) {
      for (let r = 0; r < ROUTES; r++)
        await counter(
          'crm_http_requests_total',
          `${target(i)},method="GET",route="/r${r}",status="${status}"`,
          share,
          start,
        );
    }
  }
  for (let b = 0; b < BUCKETS.length; b++) {
    // The 0.5 s bucket is read over 30 days by the naive latency SLO; the others only by 5-minute rules.
    const since = BUCKETS[b] === '0.5' ? start : recentFrom;
    for (let i = 0; i < INSTANCES; i++) {
      for (let r = 0; r < ROUTES; r++) {
        await counter(
          'crm_http_request_duration_seconds_bucket',
          `${target(i)},method="GET",route="/r${r}",le="${BUCKETS[b]}"`,
          SHARE[b] as number,
          since,
        );
      }
    }
  }
  for (let i = 0; i < INSTANCES; i++)
    for (let r = 0; r < ROUTES; r++)
      await counter('crm_http_request_duration_seconds_count', `${target(i)},method="GET",route="/r${r}"`, 1, start);
  // The job-level series our rules record and read over days, at the rate Prometheus records them (once a minute
  // here, like the slow groups; the 5-minute series are recorded at the global interval in production).
  const total = ROUTES * INSTANCES;
  const job = 'job="crm-exporter",log="crm"';
  const gauge = async (name: string, labels: string, value: (t: number) => number): Promise<void> => {
    for (let t = first; t <= last; t += STEP) await write(`${name}{${labels}} ${value(t).toFixed(6)} ${t}\n`);
  };
  await gauge('job_log:crm_http_requests:rate5m', job, (t) => total * rps(t));
  await gauge('job_log:crm_http_requests_errors:rate5m', job, (t) => total * rps(t) * 0.001);
  await gauge('job_log:crm_http_requests:rate1h', job, (t) => total * rps(t));
  await gauge('job_log:crm_http_requests_errors:rate1h', job, (t) => total * rps(t) * 0.001);
  await gauge('job_log:crm_http_requests_errors:ratio_rate1h', job, () => 0.001);
  await gauge('job_log:crm_http_requests:rate1w', job, () => total);
  for (const [slo, errors] of [
    ['availability', 0.001],
    ['latency', 0.008],
  ] as const) {
    for (const window of ['rate5m', 'rate1h']) {
      await gauge(`job_log:crm_slo_requests:${window}`, `${job},slo="${slo}"`, (t) => total * rps(t));
      await gauge(`job_log:crm_slo_errors:${window}`, `${job},slo="${slo}"`, (t) => total * rps(t) * errors);
    }
  }
  chunk.push('# EOF\n');
  await flush();
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return samples;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

/**
 * Backfills DAYS days ending at `end` into `dataDir`, one OpenMetrics file and one promtool per 54h block, with up
 * to `jobs` promtools at a time while the next files are written. Returns the number of samples.
 */
async function backfill(
  work: string,
  dataDir: string,
  end: number,
  jobs: number,
): Promise<{ samples: number; bytes: number }> {
  const start = end - DAYS * 86400;
  const windows: Array<[number, number]> = [];
  for (let from = Math.floor(start / BLOCK_SECONDS) * BLOCK_SECONDS; from <= end; from += BLOCK_SECONDS)
    windows.push([from, from + BLOCK_SECONDS]);
  mkdirSync(dataDir, { recursive: true });
  let samples = 0;
  let bytes = 0;
  const running = new Set<Promise<void>>();
  for (const [k, [from, to]] of windows.entries()) {
    const file = join(work, `block-${k}.om`);
    samples += await writeBlockFile(file, start, end, from, to);
    bytes += statSync(file).size;
    while (running.size >= jobs) await Promise.race(running);
    const out = join(work, `blocks-${k}`);
    const job = run('promtool', [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '--quiet',
      `--max-block-duration=${BLOCK_SECONDS}s`,
      file,
      out,
    ]).then(() => {
      rmSync(file);
      for (const block of readdirSync(out)) renameSync(join(out, block), join(dataDir, block));
      rmSync(out, { recursive: true, force: true });
    });
    running.add(job);
    void job.then(
      () => running.delete(job),
      () => running.delete(job),
    );
  }
  await Promise.all(running);
  return { samples, bytes };
}

/** The SLO windows of the default thresholds, written as `rate(x[w])` over raw series. */
function naiveRules(): string {
  const windows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'];
  const rules: string[] = [];
  for (const w of windows) {
    rules.push(
      `      - record: naive:crm_slo_errors:ratio_rate${w}\n        labels: { slo: availability }\n        expr: sum by (job, log) (rate(crm_http_requests_total{job="crm-exporter", status=~"5.."}[${w}])) / sum by (job, log) (rate(crm_http_requests_total{job="crm-exporter"}[${w}]))`,
      `      - record: naive:crm_slo_errors:ratio_rate${w}\n        labels: { slo: latency }\n        expr: 1 - sum by (job, log) (rate(crm_http_request_duration_seconds_bucket{job="crm-exporter", le="0.5"}[${w}])) / sum by (job, log) (rate(crm_http_request_duration_seconds_count{job="crm-exporter"}[${w}]))`,
    );
  }
  return `groups:\n  - name: naive.slo.rules\n    interval: 1m\n    rules:\n${rules.join('\n')}\n`;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const work = mkdtempSync(join(tmpdir(), 'crm-bench-rules-'));
  try {
    const end = Math.floor(Date.now() / 1000) - 120;
    const t0 = Date.now();
    const { samples, bytes } = await backfill(work, join(work, 'data'), end, JOBS);
    const backfillSeconds = (Date.now() - t0) / 1000;
    process.stderr.write(
      `backfilled ${samples} samples (${(bytes / 1e9).toFixed(2)} GB of OpenMetrics) in ${backfillSeconds.toFixed(0)} s\n`,
    );
    writeFileSync(join(work, 'naive.rules.yml'), naiveRules());
    const ourFiles = [
      join(root, 'alerting/rules/crm-recording.rules.yml'),
      join(root, 'alerting/rules/crm-alerts.rules.yml'),
    ];
    const loads = [load()];
    const ours = await evaluate(join(work, 'data'), ourFiles, WAIT_S);
    loads.push(load());
    const naive = await evaluate(join(work, 'data'), [join(work, 'naive.rules.yml')], WAIT_S);
    loads.push(load());
    const rows = [...ours, ...naive].map(
      (g) =>
        `| ${g.group} | ${g.rules} | ${g.durations.length} | ${ms(median(g.durations))} | ${ms(Math.max(...g.durations))} |`,
    );
    const sloOurs = ours
      .filter((g) => g.group.startsWith('crm-exporter.slo'))
      .reduce((s, g) => s + median(g.durations), 0);
    const sloNaive = naive.reduce((s, g) => s + median(g.durations), 0);
    const worst = Math.max(...ours.map((g) => Math.max(...g.durations)));
    const unseen = groupNames(ourFiles).filter((name) => !ours.some((g) => g.group === name));
    const met = (ok: boolean): string => (ok ? '**met**' : '**not met**');
    const body = [
      `Command: \`npm run bench:rules -- --write-results\` (${new Date().toISOString().slice(0, 10)}; ${ROUTES} routes x ${INSTANCES} instances, ${DAYS} days backfilled, ${samples.toLocaleString('en-US')} samples; Prometheus ${promVersion()}).`,
      `Backfill: one sample a minute per series (a 15 s scrape would store 4x more; the naive form, which reads raw samples, is the one this flatters), ${(bytes / 1e9).toFixed(1)} GB of OpenMetrics written one 54h block at a time and converted by \`promtool tsdb create-blocks-from openmetrics\` (${JOBS} at a time) in ${backfillSeconds.toFixed(0)} s.`,
      `Per group: evaluations observed over ${WAIT_S} s, median and max of \`evaluationTime\` (= prometheus_rule_group_last_duration_seconds). Shared 2-core machine: load average (1, 5, 15 min) ${loads[0]} before our rules, ${loads[1]} after them, ${loads[2]} after the naive ones.`,
      '',
      '| group | rules | evaluations | median ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `SLO windows (5m ... 30d, both SLOs): ours (crm-exporter.slo + slo-long) ${ms(sloOurs)} ms per evaluation round vs naive \`rate(x[w])\` ${ms(sloNaive)} ms: **${(sloNaive / sloOurs).toFixed(1)}x cheaper**. Slowest of our groups: ${ms(worst)} ms (goal <= 100 ms).`,
      '',
      'Goals (issue 9):',
      `- Every group <= 100 ms: ${met(worst <= 0.1 && unseen.length === 0)} (slowest evaluation of any of our groups: ${ms(worst)} ms${unseen.length ? `; not evaluated within the wait: ${unseen.join(', ')}` : ''}).`,
      `- >= 10x cheaper than the naive form: ${met(sloNaive / sloOurs >= 10)} (${(sloNaive / sloOurs).toFixed(1)}x).`,
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (process.argv.includes('--write-results'))
      process.stderr.write(`wrote ${writeResultsSection('bench:rules', body)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The load averages as uptime prints them. */
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

function groupNames(files: string[]): string[] {
  return files.flatMap((file) =>
    (yaml.load(readFileSync(file, 'utf8')) as { groups: Array<{ name: string }> }).groups.map((g) => g.name),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
