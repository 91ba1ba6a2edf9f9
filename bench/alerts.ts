/*
 * bench:alerts: detection and noise of the generated rules against a static-threshold rule set, on the same
 * simulated weeks, replayed through `promtool test rules` (deterministic: no wall clock, same numbers every run).
 *
 *   npm run bench:alerts [-- --write-results]
 *
 * Every scenario is three healthy weeks (so the week-over-week baselines have their history) and then a Tuesday;
 * the fault starts at 10:00 on that Tuesday. Reported per rule set: time from the fault's start to the first
 * page (critical) or ticket (warning), and alert episodes that began before the fault (false alerts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import yaml from 'js-yaml';
import { renderBundle } from '../src/bundle/render.js';
import { parseThresholds } from '../src/bundle/thresholds.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAY_MINUTES, WEEK_MINUTES, simulate, type Fault } from './alerts/model.js';
import { replay, type AlertEvent } from './alerts/replay.js';
import { writeResultsSection } from './results-file.js';

function repoRoot(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return root;
}

const root = repoRoot();

/**
 * Our rules, rendered from the shipped alerting/thresholds.yaml with one change: promtool's unit-test engine
 * refuses queries that load more than 10,000 samples, so the error-budget period (which no alert reads) is 3d
 * instead of 30d. Every alert and every window an alert reads is as shipped.
 */
function ourRules(dir: string): string[] {
  const document = yaml.load(readFileSync(join(root, 'alerting/thresholds.yaml'), 'utf8')) as { slo: { period: string } };
  document.slo.period = '3d';
  const files: string[] = [];
  for (const [path, content] of renderBundle(parseThresholds(document))) {
    if (!path.startsWith('alerting/rules/')) continue;
    const file = join(dir, path.replace(/\//g, '_'));
    writeFileSync(file, content);
    files.push(file);
  }
  return files;
}

const workDir = mkdtempSync(join(tmpdir(), 'crm-bench-alerts-rules-'));
const RULE_SETS = {
  ours: ourRules(workDir),
  static: [join(root, 'bench/alerts/static-rules.yml')],
};

const TUESDAY_10AM = 3 * WEEK_MINUTES + DAY_MINUTES + 10 * 60;
const END = 3 * WEEK_MINUTES + DAY_MINUTES + 16 * 60;

interface Scenario {
  name: string;
  quietNights?: boolean;
  fault?: Fault;
  /** Where the "before" window ends when there is no fault: the whole run is healthy. */
}

const SCENARIOS: Scenario[] = [
  { name: 'healthy weeks (no fault)' },
  { name: 'zero traffic at night (no fault)', quietNights: true },
  { name: 'error burst: 30 % 5xx for 20 min', fault: { kind: 'error-burst', start: TUESDAY_10AM, minutes: 20 } },
  { name: 'latency regression: a fifth of requests ~1 s for 1 h', fault: { kind: 'latency', start: TUESDAY_10AM, minutes: 60 } },
  { name: 'traffic drop to 30 % at 10 a.m. for 2 h', fault: { kind: 'traffic-drop', start: TUESDAY_10AM, minutes: 120 } },
  { name: 'PostgreSQL down for 15 min', fault: { kind: 'postgres-down', start: TUESDAY_10AM, minutes: 15 } },
];

const isNotify = (e: AlertEvent): boolean => e.severity === 'critical' || e.severity === 'warning';

function describeDetection(events: AlertEvent[], faultStart: number): { page: string; ticket: string } {
  const after = events.filter((e) => e.value >= faultStart * 60);
  const first = (severity: string): string => {
    const hit = after.filter((e) => e.severity === severity).sort((a, b) => a.value - b.value)[0];
    return hit ? `${Math.round((hit.value - faultStart * 60) / 60)} min (${hit.alertname})` : 'missed';
  };
  return { page: first('critical'), ticket: first('warning') };
}

function describeFalse(events: AlertEvent[]): string {
  const notify = events.filter(isNotify);
  if (notify.length === 0) return '0';
  const total = notify.reduce((sum, e) => sum + e.value, 0);
  return `${total} (${notify.map((e) => `${e.alertname} ${e.value}`).join(', ')})`;
}

/** Runs `jobs` with at most `limit` at a time (one promtool per core), keeping their order in the result. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

async function main(): Promise<void> {
  const started = Date.now();
  // BENCH_SCENARIOS (a regex over the names) runs a subset while iterating; --write-results refuses a subset.
  const only = process.env.BENCH_SCENARIOS ? new RegExp(process.env.BENCH_SCENARIOS) : undefined;
  if (only && process.argv.includes('--write-results')) throw new Error('BENCH_SCENARIOS runs a subset: not written to RESULTS.md');
  const jobs = SCENARIOS.filter((s) => !only || only.test(s.name)).flatMap((scenario) =>
    Object.entries(RULE_SETS).map(([set, files]) => async () => {
      const minutes = simulate(END, { seed: 42, quietNights: scenario.quietNights, fault: scenario.fault });
      const from = scenario.fault?.start ?? END - 1;
      const t0 = Date.now();
      const result = await replay(files, minutes, from);
      const detection = scenario.fault ? describeDetection(result.firstFiring, scenario.fault.start) : { page: '–', ticket: '–' };
      const row = `| ${scenario.name} | ${set} | ${detection.page} | ${detection.ticket} | ${describeFalse(result.episodesBefore)} |`;
      process.stderr.write(`${row}  (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
      return row;
    }),
  );
  const rows = await pool(jobs, Number(process.env.BENCH_JOBS ?? 2));
  const body = [
    `Command: \`npm run bench:alerts -- --write-results\` (${new Date().toISOString().slice(0, 10)}, promtool ${promtoolVersion()}, ${((Date.now() - started) / 1000).toFixed(0)} s).`,
    'Simulated service: 40 req/s at the weekday peak, 3 at night (0 in the quiet-night scenario), weekends at 40 %, ±10 % noise',
    'per minute, 0.02 % errors, p95 ~ 120 ms; three healthy weeks, then a Tuesday whose fault starts at 10:00. Replayed once a',
    'simulated minute (series) and evaluated every 2 simulated minutes through `promtool test rules` (no wall clock; promtool\'s',
    'test engine caps a query at 10,000 samples, which a 1-minute evaluation of 3-day windows exceeds, so detection times',
    'have a 2-minute resolution for both rule sets). "ours" = the rules rendered from the shipped alerting/thresholds.yaml with',
    'slo.period 3d instead of 30d (the budget-remaining rule, which no alert reads, would exceed that cap); "static" =',
    'bench/alerts/static-rules.yml, thresholds of the kind the public collections ship.',
    'Detection = minutes from the fault\'s start to the first page (critical) or ticket (warning). False alerts = page or ticket',
    'episodes that began before the fault (the whole run when there is none), with their names and counts.',
    '',
    '| scenario | rules | first page | first ticket | false alerts |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (process.argv.includes('--write-results')) process.stderr.write(`wrote ${writeResultsSection('bench:alerts', body)}\n`);
}

function promtoolVersion(): string {
  return /version (\S+)/.exec(spawnVersion())?.[1] ?? 'unknown';
}

function spawnVersion(): string {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(workDir, { recursive: true, force: true }));
