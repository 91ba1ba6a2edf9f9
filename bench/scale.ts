/*
 * bench:scale: what the shipped rules (alerting/rules/*.yml) cost a Prometheus that holds the series of N exporter
 * pods, for N = 10, 100, 1,000 (docs/scaling.md explains the model and quotes the figures).
 *
 *   npm run bench:scale [-- --write-results]    (BENCH_PODS=10,100,1000 BENCH_ROUTES=20 BENCH_SCRAPE_S=30
 *                                                BENCH_WAIT_S=60 BENCH_DAYS=35)
 *
 * Backfilled with `promtool tsdb create-blocks-from openmetrics`, from two OpenMetrics files:
 * - once, the job-level series the rules record and later read over days (5-minute and hourly rates, SLO rates,
 *   the probe average), once a minute for 35 days (the 5-minute rates every 15 s for the last 7 hours): the long
 *   windows (1d/3d/30d SLO, three weeks of baselines) read only these, never the pods' raw series, so backfilling
 *   them as recorded is exactly what those rules read;
 * - per size, every series the rules read from each pod (requests by status, histogram buckets and count, phases,
 *   cache and lock outcomes per route; up, probe, log health per pod), one sample per scrape interval for the last
 *   6 minutes (the 5-minute windows), the route-overflow counter for 65 minutes (its alert's 1 h window).
 * The raw file ends at a moment E a little in the future, estimated from the previous size's generation and promtool
 * speed: a private Prometheus (Debian's) loads the blocks, cannot store rule results before E (its head starts at
 * the newest block's end), and the cost of each group is read from prometheus_rule_group_last_duration_seconds for
 * BENCH_WAIT_S seconds from E on, while the 5-minute windows hold (nearly) all their samples. BENCH_DEBUG=1 prints
 * the four costliest rules of the service group and the TSDB compactions at each poll.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeResultsSection } from './results-file.js';
import { evaluate, median, ms, promVersion, repoRoot } from './rules/prometheus.js';

const PODS = (process.env.BENCH_PODS ?? '10,100,1000').split(',').map(Number);
const ROUTES = Number(process.env.BENCH_ROUTES ?? 20);
const SCRAPE_S = Number(process.env.BENCH_SCRAPE_S ?? 30);
const WAIT_S = Number(process.env.BENCH_WAIT_S ?? 60);
const DAYS = Number(process.env.BENCH_DAYS ?? 35);
const RAW_S = 6 * 60;
const OVERFLOW_S = 65 * 60;
const RECORDED_STEP = 60;
const EVAL_S = 15;
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const SHARE = [0.05, 0.2, 0.45, 0.7, 0.9, 0.97, 0.992, 0.998, 0.9995, 1, 1, 1];
const STATUSES = [
  ['200', 0.95],
  ['404', 0.049],
  ['500', 0.001],
] as const;
const PHASES = [
  ['app', 0.02],
  ['db', 0.015],
  ['cache', 0.001],
] as const;
const PARSE_ERROR_REASONS = [
  'empty_line',
  'line_too_long',
  'binary',
  'invalid_json',
  'format_mismatch',
  'missing_field',
  'invalid_status',
  'invalid_duration',
  'invalid_bytes',
];
const CLUSTER = 'bench';
const BASE_PODS = 100;

/** Series each pod contributes, as generated below: per route 3 statuses + 12 buckets + count + 3 phases + 2 + 2. */
const PER_ROUTE = STATUSES.length + BUCKETS.length + 1 + PHASES.length + 2 + 2;
const PER_POD_FIXED = 7 + PARSE_ERROR_REASONS.length;

/** Buffered writer of an OpenMetrics file (backpressure respected). */
class Lines {
  private chunk: string[] = [];
  private size = 0;
  samples = 0;
  private readonly out;
  constructor(file: string) {
    this.out = createWriteStream(file);
  }
  async series(
    name: string,
    labels: string,
    from: number,
    to: number,
    step: number,
    value: (t: number) => number,
  ): Promise<void> {
    for (let t = from; t <= to; t += step) {
      const line = `${name}{${labels}} ${value(t)} ${t}\n`;
      this.chunk.push(line);
      this.size += line.length;
      this.samples++;
    }
    if (this.size > 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    const text = this.chunk.join('');
    this.chunk = [];
    this.size = 0;
    if (!this.out.write(text)) await new Promise<void>((r) => this.out.once('drain', () => r()));
  }
  async close(): Promise<void> {
    this.chunk.push('# EOF\n');
    await this.flush();
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** Requests per second of one route on one pod: 0.2 - 2 req/s, fixed per route. */
const routeRps = (r: number): number => 0.2 + ((r * 7919) % 19) / 10;
const round = (v: number): number => Math.round(v * 1000) / 1000;

/** The series the rules read from each of `pods` pods: the last RAW_S seconds (the overflow counter OVERFLOW_S). */
async function writeRaw(file: string, pods: number, end: number): Promise<number> {
  const out = new Lines(file);
  const from = end - RAW_S;
  const origin = end - 86400; // counters start a day earlier: realistic, large values
  const target = (p: number): string => `cluster="${CLUSTER}",job="crm-exporter",instance="pod-${p}:9464"`;
  const counter = (rate: number) => (t: number) => round(rate * (t - origin));
  const method = (r: number): string => (r % 3 === 0 ? 'POST' : 'GET');
  const eachRoute = async (fn: (p: number, r: number, labels: string) => Promise<void>): Promise<void> => {
    for (let p = 0; p < pods; p++)
      for (let r = 0; r < ROUTES; r++) await fn(p, r, `${target(p)},log="crm",route="/api/r${r}"`);
  };
  for (const [status, share] of STATUSES) {
    await eachRoute((_p, r, l) =>
      out.series(
        'crm_http_requests_total',
        `${l},method="${method(r)}",status="${status}"`,
        from,
        end,
        SCRAPE_S,
        counter(routeRps(r) * share),
      ),
    );
  }
  for (let b = 0; b < BUCKETS.length; b++) {
    await eachRoute((_p, r, l) =>
      out.series(
        'crm_http_request_duration_seconds_bucket',
        `${l},method="${method(r)}",le="${BUCKETS[b]}"`,
        from,
        end,
        SCRAPE_S,
        counter(routeRps(r) * (SHARE[b] as number)),
      ),
    );
  }
  await eachRoute((_p, r, l) =>
    out.series(
      'crm_http_request_duration_seconds_count',
      `${l},method="${method(r)}"`,
      from,
      end,
      SCRAPE_S,
      counter(routeRps(r)),
    ),
  );
  for (const [phase, seconds] of PHASES) {
    await eachRoute((_p, r, l) =>
      out.series(
        'crm_http_request_phase_seconds_total',
        `${l},phase="${phase}"`,
        from,
        end,
        SCRAPE_S,
        counter(routeRps(r) * seconds),
      ),
    );
  }
  for (const [result, share] of [
    ['hit', 0.9],
    ['miss', 0.1],
  ] as const) {
    await eachRoute((_p, r, l) =>
      out.series(
        'crm_cache_lookups_total',
        `${l},result="${result}"`,
        from,
        end,
        SCRAPE_S,
        counter(routeRps(r) * share),
      ),
    );
  }
  for (const [result, share] of [
    ['acquired', 0.199],
    ['contended', 0.001],
  ] as const) {
    await eachRoute((_p, r, l) =>
      out.series(
        'crm_lock_acquisitions_total',
        `${l},result="${result}"`,
        from,
        end,
        SCRAPE_S,
        counter(routeRps(r) * share),
      ),
    );
  }
  let podRps = 0;
  for (let r = 0; r < ROUTES; r++) podRps += routeRps(r);
  const perPod = async (name: string, labels: string, value: (t: number) => number, since = from): Promise<void> => {
    for (let p = 0; p < pods; p++) await out.series(name, `${target(p)}${labels}`, since, end, SCRAPE_S, value);
  };
  await perPod('up', '', () => 1);
  await perPod('crm_probe_success', '', () => 1);
  await perPod('crm_scrape_collector_success', ',collector="probe"', () => 1);
  await perPod('process_start_time_seconds', '', () => origin);
  await perPod('crm_log_lines_total', ',log="crm"', counter(podRps));
  await perPod('crm_log_last_read_timestamp_seconds', ',log="crm"', (t) => t);
  for (const reason of PARSE_ERROR_REASONS)
    await perPod('crm_log_parse_errors_total', `,log="crm",reason="${reason}"`, () => 0);
  await perPod('crm_log_routes_overflow_total', ',log="crm"', () => 0, end - OVERFLOW_S);

  await out.close();
  return out.samples;
}

/**
 * What the rules recorded over the last DAYS days, once a minute, at job level (one series per SLO, not per pod):
 * all the 1d/3d/30d windows and the baselines read. Written once for every size: promtool parses its input once
 * per 2 h block, 420 times for 35 days, so the raw series of the pods (an hour) go into a file of their own. Its
 * values are those of BASE_PODS pods; no rule's cost depends on a value.
 */
async function writeHistory(file: string, end: number): Promise<number> {
  const out = new Lines(file);
  let podRps = 0;
  for (let r = 0; r < ROUTES; r++) podRps += routeRps(r);
  const total = BASE_PODS * podRps;
  const day = (t: number): number => 1 + 0.5 * Math.sin((2 * Math.PI * (t % 86400)) / 86400);
  const job = `cluster="${CLUSTER}",job="crm-exporter",log="crm"`;
  // Once a minute like the groups with `interval: 1m`; the 5-minute rates, recorded every evaluation_interval (15 s),
  // at 15 s for the last 7 hours, which the SLO windows up to 6 h read.
  const recent = end - 7 * 3600;
  const recorded = async (name: string, labels: string, value: (t: number) => number): Promise<void> => {
    const fine = name.endsWith(':rate5m');
    await out.series(name, labels, end - DAYS * 86400, fine ? recent - RECORDED_STEP : end, RECORDED_STEP, (t) =>
      round(value(t)),
    );
    if (fine) await out.series(name, labels, recent, end, EVAL_S, (t) => round(value(t)));
  };
  await recorded('job_log:crm_http_requests:rate5m', job, (t) => total * day(t));
  await recorded('job_log:crm_http_requests_errors:rate5m', job, (t) => total * day(t) * 0.001);
  await recorded('job_log:crm_http_requests:rate1h', job, (t) => total * day(t));
  await recorded('job_log:crm_http_requests_errors:rate1h', job, (t) => total * day(t) * 0.001);
  await recorded('job_log:crm_http_requests_errors:ratio_rate1h', job, () => 0.001);
  await recorded('job_log:crm_http_requests:rate1w', job, () => total);
  await recorded('job:crm_probe_success:avg5m', `cluster="${CLUSTER}",job="crm-exporter"`, () => 1);
  for (const [slo, errors] of [
    ['availability', 0.001],
    ['latency', 0.008],
  ] as const) {
    for (const window of ['rate5m', 'rate1h']) {
      await recorded(`job_log:crm_slo_requests:${window}`, `${job},slo="${slo}"`, (t) => total * day(t));
      await recorded(`job_log:crm_slo_errors:${window}`, `${job},slo="${slo}"`, (t) => total * day(t) * errors);
    }
  }
  await out.close();
  return out.samples;
}

interface SizeResult {
  pods: number;
  series: number;
  samples: number;
  fileGB: number;
  writeS: number;
  promtoolS: number;
  /** Median of prometheus_rule_group_last_duration_seconds per group. */
  groups: Map<string, { rules: number; evaluations: number; median: number; max: number }>;
  /** 5-minute window content at the first and the last measured evaluation, in scrape samples (of 300 / SCRAPE_S). */
  windowSamples: [number, number];
  peakRssMiB: number;
}

/** Reads `name{...}` samples of a Prometheus text exposition. */
function metricValues(text: string, name: string): Array<{ labels: string; value: number }> {
  const out: Array<{ labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const space = line.lastIndexOf(' ');
    out.push({ labels: line.slice(name.length, space), value: Number(line.slice(space + 1)) });
  }
  return out;
}

/** Blocks from an OpenMetrics file into `dir` (added to what is there); seconds taken. */
function createBlocks(input: string, dir: string): number {
  const t0 = Date.now();
  const made = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', input, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (made.status !== 0) throw new Error(`promtool create-blocks-from failed: ${made.stderr}`);
  rmSync(input);
  return (Date.now() - t0) / 1000;
}

async function runSize(
  root: string,
  history: string,
  pods: number,
  rates: { write: number; promtool: number },
): Promise<SizeResult> {
  const work = mkdtempSync(join(tmpdir(), `crm-bench-scale-${pods}-`));
  try {
    const expected = pods * (ROUTES * PER_ROUTE + PER_POD_FIXED) * (RAW_S / SCRAPE_S + 1);
    const leadS = Math.ceil(expected / rates.write + expected / rates.promtool + 40);
    const end = Math.floor(Date.now() / 1000) + leadS;
    const input = join(work, 'raw.om');
    const t0 = Date.now();
    const samples = await writeRaw(input, pods, end);
    const writeS = (Date.now() - t0) / 1000;
    const fileGB = statSync(input).size / 1e9;
    cpSync(history, join(work, 'data'), { recursive: true });
    const promtoolS = createBlocks(input, join(work, 'data'));
    process.stderr.write(
      `${pods} pods: ${samples.toLocaleString('en-US')} samples, ${fileGB.toFixed(2)} GB written in ${writeS.toFixed(0)} s, blocks in ${promtoolS.toFixed(0)} s; E - now = ${(end - Date.now() / 1000).toFixed(0)} s\n`,
    );
    rates.write = samples / writeS;
    rates.promtool = samples / promtoolS;
    // Per group, each evaluation after E: its start (prometheus_rule_group_last_evaluation_timestamp_seconds) and
    // what it took (prometheus_rule_group_last_duration_seconds), read from Prometheus's own /metrics.
    const evaluations = new Map<string, Map<number, number>>();
    let peakRss = 0;
    const ruleFiles = ['crm-recording.rules.yml', 'crm-alerts.rules.yml'].map((f) => join(root, 'alerting/rules', f));
    const groupOf = (labels: string): string => /rule_group="[^;"]*;([^"]+)"/.exec(labels)?.[1] ?? labels;
    const costs = await evaluate(join(work, 'data'), ruleFiles, WAIT_S, {
      notBeforeMs: end * 1000 + 1000,
      // No compaction of the backfilled 2 h blocks while measuring: merging hundreds of them is a one-off cost of the
      // backfill that would compete for the 2 cores. The 30-day windows then read 360 small blocks instead of a few
      // compacted ones: their figures are an upper bound.
      args: ['--storage.tsdb.max-block-duration=2h'],
      onPoll: async (url) => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const started = new Map(
          metricValues(text, 'prometheus_rule_group_last_evaluation_timestamp_seconds').map(({ labels, value }) => [
            groupOf(labels),
            value,
          ]),
        );
        for (const { labels, value } of metricValues(text, 'prometheus_rule_group_last_duration_seconds')) {
          const group = groupOf(labels);
          const at = started.get(group) ?? 0;
          if (at <= end) continue;
          const seen = evaluations.get(group) ?? new Map<number, number>();
          seen.set(at, value);
          evaluations.set(group, seen);
        }
        for (const { value } of metricValues(text, 'process_resident_memory_bytes')) peakRss = Math.max(peakRss, value);
        if (process.env.BENCH_DEBUG) {
          const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
            data: {
              groups: Array<{ name: string; rules: Array<{ name: string; evaluationTime: number; query: string }> }>;
            };
          };
          for (const g of body.data.groups) {
            if (g.name !== 'crm-exporter.service.rules') continue;
            for (const r of [...g.rules].sort((a, b) => b.evaluationTime - a.evaluationTime).slice(0, 4))
              process.stderr.write(`    ${ms(r.evaluationTime)} ${r.name} ${r.query.slice(0, 100)}\n`);
          }
        }
        if (process.env.BENCH_DEBUG)
          process.stderr.write(
            `  compactions ${metricValues(text, 'prometheus_tsdb_compactions_total')
              .map((v) => v.value)
              .join(',')} blocks ${metricValues(text, 'prometheus_tsdb_blocks_loaded')
              .map((v) => v.value)
              .join(',')}\n`,
          );
      },
    });
    const groups = new Map<string, { rules: number; evaluations: number; median: number; max: number }>();
    for (const cost of costs.sort((a, b) => a.group.localeCompare(b.group))) {
      const values = [...(evaluations.get(cost.group)?.values() ?? [])];
      groups.set(cost.group, {
        rules: cost.rules,
        evaluations: values.length,
        median: median(values),
        max: Math.max(...values),
      });
      process.stderr.write(`  ${cost.group}: ${values.map((v) => ms(v)).join(' ')} ms\n`);
    }
    const service = [...(evaluations.get('crm-exporter.service.rules')?.keys() ?? [])];
    const fill = (at: number): number =>
      Math.min(300 / SCRAPE_S, Math.max(0, Math.floor((end - (at - 300)) / SCRAPE_S)));
    return {
      pods,
      series: pods * (ROUTES * PER_ROUTE + PER_POD_FIXED),
      samples,
      fileGB,
      writeS,
      promtoolS,
      groups,
      windowSamples: [fill(Math.min(...service)), fill(Math.max(...service))],
      peakRssMiB: peakRss / 2 ** 20,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = repoRoot();
  const rates = { write: 300_000, promtool: 150_000 };
  const results: SizeResult[] = [];
  const work = mkdtempSync(join(tmpdir(), 'crm-bench-scale-history-'));
  let historySamples = 0;
  try {
    const input = join(work, 'history.om');
    historySamples = await writeHistory(input, Math.floor(Date.now() / 1000));
    const seconds = createBlocks(input, join(work, 'data'));
    process.stderr.write(
      `history: ${historySamples.toLocaleString('en-US')} samples over ${DAYS} days, blocks in ${seconds.toFixed(0)} s\n`,
    );
    for (const pods of PODS) results.push(await runSize(root, join(work, 'data'), pods, rates));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const base = results[0] as SizeResult;
  const groupNames = [...new Set(results.flatMap((r) => [...r.groups.keys()]))];
  const cell = (r: SizeResult, g: string): string => {
    const v = r.groups.get(g);
    return v && v.evaluations > 0 ? ms(v.median) : '-';
  };
  const perRound = (r: SizeResult): number =>
    [...r.groups.values()].reduce((s, g) => s + (g.evaluations > 0 ? g.median : 0), 0);
  const long = (r: SizeResult): number =>
    ['crm-exporter.slo-long.rules', 'crm-exporter.baseline.rules'].reduce(
      (s, g) => s + (r.groups.get(g)?.median ?? 0),
      0,
    );
  const rows = [
    `| pods | ${results.map((r) => r.pods.toLocaleString('en-US')).join(' | ')} |`,
    `| --- | ${results.map(() => '---:').join(' | ')} |`,
    `| raw series read by the rules | ${results.map((r) => r.series.toLocaleString('en-US')).join(' | ')} |`,
    `| raw samples backfilled | ${results.map((r) => r.samples.toLocaleString('en-US')).join(' | ')} |`,
    `| backfill: write s / promtool s | ${results.map((r) => `${r.writeS.toFixed(0)} / ${r.promtoolS.toFixed(0)}`).join(' | ')} |`,
    ...groupNames.map((g) => `| ${g} (ms) | ${results.map((r) => cell(r, g)).join(' | ')} |`),
    `| **all groups, one round (ms)** | ${results.map((r) => `**${ms(perRound(r))}**`).join(' | ')} |`,
    `| ratio to ${base.pods} pods | ${results.map((r) => `${(perRound(r) / perRound(base)).toFixed(1)}x`).join(' | ')} |`,
    `| 30d SLO + 3-week baseline groups (ms) | ${results.map((r) => ms(long(r))).join(' | ')} |`,
    `| Prometheus peak RSS (MiB) | ${results.map((r) => r.peakRssMiB.toFixed(0)).join(' | ')} |`,
    `| 5m windows held, first and last evaluation (samples of ${300 / SCRAPE_S}) | ${results.map((r) => `${r.windowSamples[0]} - ${r.windowSamples[1]}`).join(' | ')} |`,
  ];
  const body = [
    `Command: \`npm run bench:scale -- --write-results\` (${new Date().toISOString().slice(0, 10)}; ${ROUTES} routes per pod, ${ROUTES * PER_ROUTE + PER_POD_FIXED} series per pod read by the rules, ${SCRAPE_S} s scrape interval, raw series for the last ${RAW_S / 60} min, job-level recorded series for ${DAYS} days once a minute (the 5-minute ones every 15 s for the last 7 h), ${historySamples.toLocaleString('en-US')} samples; shipped rules evaluated every 15 s for ${WAIT_S} s; Prometheus ${promVersion()}).`,
    "Per group: median of prometheus_rule_group_last_duration_seconds over the evaluations after the backfill's end (groups with `interval: 1m` are seen once or twice).",
    '',
    ...rows,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (process.argv.includes('--write-results'))
    process.stderr.write(`wrote ${writeResultsSection('bench:scale', body)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
