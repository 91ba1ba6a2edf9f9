import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { BUCKETS, DAY_MINUTES, type Minute } from './model.js';

/*
 * Replays simulated minutes through `promtool test rules`: Prometheus's own rule engine, evaluated once a
 * simulated minute with no wall clock. Each question (when did which alert first fire, how many episodes) is a
 * promql_expr_test over the ALERTS series that expects nothing; promtool prints what it got instead, and that is
 * the answer.
 */

const TARGET = 'job="crm-exporter", instance="crm-exporter:9464"';
const ROUTE = `${TARGET}, log="crm", method="GET", route="/api/customers/:id"`;

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

/** input_series of the exporter's view of the simulated service: counters cumulative per minute. */
export function inputSeries(minutes: Minute[]): Array<{ series: string; values: string }> {
  const ok: number[] = [];
  const err: number[] = [];
  const buckets = BUCKETS.map(() => [] as number[]);
  const count: number[] = [];
  let okSum = 0;
  let errSum = 0;
  let total = 0;
  const bucketSums = BUCKETS.map(() => 0);
  for (const m of minutes) {
    const n = m.rps * 60;
    okSum += n * (1 - m.errorRatio);
    errSum += n * m.errorRatio;
    total += n;
    ok.push(okSum);
    err.push(errSum);
    count.push(total);
    m.latencyCdf.forEach((share, i) => {
      bucketSums[i] = (bucketSums[i] as number) + n * share;
      (buckets[i] as number[]).push(bucketSums[i] as number);
    });
  }
  const list = (values: number[]): string => values.map(fmt).join(' ');
  const constant = (value: number): string => `${value}x${minutes.length - 1}`;
  const series = [
    { series: `crm_http_requests_total{${ROUTE}, status="200"}`, values: list(ok) },
    { series: `crm_http_requests_total{${ROUTE}, status="500"}`, values: list(err) },
    ...BUCKETS.map((le, i) => ({
      series: `crm_http_request_duration_seconds_bucket{${ROUTE}, le="${le}"}`,
      values: list(buckets[i] as number[]),
    })),
    { series: `crm_http_request_duration_seconds_bucket{${ROUTE}, le="+Inf"}`, values: list(count) },
    { series: `crm_http_request_duration_seconds_count{${ROUTE}}`, values: list(count) },
    // The probe's own /healthz requests are logged too: four lines a minute even when no user is there.
    { series: `crm_log_lines_total{${TARGET}, log="crm"}`, values: list(count.map((c, i) => c + 4 * i)) },
    {
      series: `crm_log_parse_errors_total{${TARGET}, log="crm", reason="invalid_json"}`,
      values: `0+0x${minutes.length - 1}`,
    },
    { series: `crm_log_routes_overflow_total{${TARGET}, log="crm"}`, values: `0+0x${minutes.length - 1}` },
    { series: `crm_log_last_read_timestamp_seconds{${TARGET}, log="crm"}`, values: `0+60x${minutes.length - 1}` },
    { series: `process_start_time_seconds{${TARGET}}`, values: `0+0x${minutes.length - 1}` },
    { series: `up{${TARGET}}`, values: `1+0x${minutes.length - 1}` },
    { series: `crm_probe_success{${TARGET}}`, values: list(minutes.map((m) => (m.probeUp ? 1 : 0))) },
    { series: `crm_pg_up{${TARGET}}`, values: list(minutes.map((m) => (m.pgUp ? 1 : 0))) },
    {
      series: `crm_scrape_collector_success{${TARGET}, collector="postgres"}`,
      values: list(minutes.map((m) => (m.pgUp ? 1 : 0))),
    },
    { series: `crm_redis_up{${TARGET}}`, values: constant(1) },
  ];
  return series;
}

export interface AlertEvent {
  alertname: string;
  severity: string;
  /** Seconds since the start of the simulation. */
  value: number;
}

export interface ReplayResult {
  /** Per alert: first firing at or after `from` (seconds since start). */
  firstFiring: AlertEvent[];
  /** Per alert: firing episodes that began in [0, from). */
  episodesBefore: AlertEvent[];
}

/**
 * The order promtool evaluates the groups in at each step. Without one it is the iteration order of a Go map, which
 * changes from run to run: an alert group evaluated before the recording group it reads sees the previous step's
 * value, one evaluation step (2 simulated minutes here) late, in some runs and not in others. Recording groups go
 * first, in file order (each reads only groups above it), then the alert groups: an alert sees what was recorded at
 * the same instant. A real Prometheus runs each group on its own timer, so there an alert reads a recorded value
 * that is on average half an evaluation interval old (7.5 s at the usual 15 s), far below this step.
 */
export function groupEvalOrder(ruleFiles: string[]): string[] {
  const groups = ruleFiles.flatMap(
    (file) =>
      (yaml.load(readFileSync(file, 'utf8')) as { groups: Array<{ name: string; rules: Array<{ record?: string }> }> })
        .groups,
  );
  const recordingOnly = (g: { rules: Array<{ record?: string }> }): boolean =>
    g.rules.every((r) => r.record !== undefined);
  return [...groups.filter(recordingOnly), ...groups.filter((g) => !recordingOnly(g))].map((g) => g.name);
}

const FIRING = 'max by (alertname, severity) (ALERTS{alertstate="firing"})';

/** Runs the rule files over the minutes; `from` (minutes) splits "before" from "after". */
export async function replay(ruleFiles: string[], minutes: Minute[], from: number): Promise<ReplayResult> {
  const end = minutes.length - 1;
  const after = end - from;
  const first = `min by (alertname, severity) (min_over_time(timestamp(${FIRING})[${Math.max(after, 1)}m:1m]))`;
  // Episodes that began in [0, from), counted one simulated day at a time: one subquery over three weeks of
  // minutes would exceed promtool's 50 M-sample query limit. A subquery [r:1m] at T covers both T - r and T, so each
  // day's range is one second short of it: minutes (a, b], never counting an episode twice at a day's edge, and the
  // last day ends before `from` (an alert without `for` fires at the fault's first minute: a detection, not a false
  // alert). Minute 0 has no alerts.
  const episodes: string[] = [];
  for (let a = 0; a < from - 1; a += DAY_MINUTES) {
    const b = Math.min(a + DAY_MINUTES, from - 1);
    const offset = end - b;
    episodes.push(
      `count_over_time((${FIRING} unless max by (alertname, severity) (ALERTS{alertstate="firing"} offset 1m))[${(b - a) * 60 - 1}s:1m]${offset > 0 ? ` offset ${offset}m` : ''})`,
    );
  }
  const test = {
    rule_files: ruleFiles,
    // promtool's test engine refuses queries over 10,000 samples: a 2-minute evaluation keeps week-long windows under it.
    evaluation_interval: '2m',
    group_eval_order: groupEvalOrder(ruleFiles),
    tests: [
      {
        interval: '1m',
        input_series: inputSeries(minutes),
        promql_expr_test: [first, ...episodes].map((expr) => ({ expr, eval_time: `${end}m`, exp_samples: [] })),
      },
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-alerts-'));
  try {
    const file = join(dir, 'replay.test.json');
    // JSON is YAML: promtool reads it, and it is much faster to write for 30,000-minute series.
    writeFileSync(file, JSON.stringify(test));
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('promtool', ['test', 'rules', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    if (process.env.BENCH_ALERTS_DEBUG) process.stderr.write(output.slice(0, 4000));
    const counts = new Map<string, AlertEvent>();
    for (const event of episodes.flatMap((expr) => parseGot(output, expr))) {
      const key = `${event.alertname}/${event.severity}`;
      const seen = counts.get(key);
      counts.set(key, { ...event, value: (seen?.value ?? 0) + event.value });
    }
    return { firstFiring: parseGot(output, first), episodesBefore: [...counts.values()] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Samples promtool printed as `got:` for the test of `expr` (none when the query returned nothing). */
function parseGot(output: string, expr: string): AlertEvent[] {
  const marker = `expr: ${JSON.stringify(expr)}`;
  const at = output.indexOf(marker);
  if (at < 0) {
    if (/FAILED|error/i.test(output) && !output.includes('expr: '))
      throw new Error(`promtool failed:\n${output.slice(0, 2000)}`);
    return [];
  }
  const rest = output.slice(at + marker.length);
  const error = /^[^\n]*err: (.*)/.exec(rest);
  if (error) throw new Error(`promtool could not evaluate ${expr}: ${error[1]}`);
  const gotLine = /got: (.*)/.exec(rest)?.[1] ?? '';
  const events: AlertEvent[] = [];
  for (const match of gotLine.matchAll(/\{([^}]*)\} ([-+0-9.eE]+)/g)) {
    const labels = Object.fromEntries([...(match[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    events.push({ alertname: labels.alertname ?? '?', severity: labels.severity ?? '?', value: Number(match[2]) });
  }
  return events;
}
