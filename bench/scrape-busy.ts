/**
 * bench:scrape section "busy" (issue 11 B6), heading "bench:scrape (busy: full-rate ingest, PostgreSQL locked)".
 *
 *   npm run bench:scrape -- --section busy [--busy-scrapes 300] [--busy-interval 100] [--locked-rounds 3] [--write-results]
 *
 * 1. Scrapes while ingesting. The exporter CLI (bin/crm-exporter.js, one nginx log source, defaults otherwise) tails a
 *    log. A worker thread (busy-writer.ts) appends pre-generated lines in ~4 MiB writes as fast as it can while staying
 *    at most 128 MiB ahead of the exporter's crm_log_bytes_read_total (read from the scrapes), renaming the log every
 *    512 MiB so the disk holds about 1 GiB at most: the exporter always has bytes waiting, so it ingests at the fastest
 *    rate it sustains. The bench scrapes /metrics every `--busy-interval` ms (each a full GET, body read), first while
 *    the log is idle (the baseline, same process, same run), then while busy. Afterwards the exporter must have counted
 *    exactly the lines written.
 * 2. Scrapes while PostgreSQL is slow. A second exporter process, the same log source plus `postgres:` on a database
 *    the bench creates (a 10,000-row table), everything else default (postgres.timeout 5 s). Another session holds
 *    `LOCK TABLE ... IN ACCESS EXCLUSIVE MODE` in an open transaction: pg_table_size() in the collector's
 *    pg_stat_user_tables query needs an ACCESS SHARE lock on each table, so that query waits (observed in
 *    pg_stat_activity during each scrape). Scrapes with X-Prometheus-Scrape-Timeout-Seconds 1, 2, 5 and 10 must each
 *    answer 200 within that timeout with crm_scrape_collector_success{collector="postgres"} 0; after the lock is
 *    released the collector succeeds again. The database is dropped at the end.
 *
 * Targets: busy p99 <= 100 ms; every locked scrape answered within its timeout with postgres success 0; recovery.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { LINES, READ, SHARED_SLOTS, STOP, WRITTEN, type WriterData, type WriterResult } from './busy-writer.js';
import { NGINX_BENCH_FORMAT } from './gen-lines.js';
import { freePort, percentile, startChild, type BenchOptions, type SectionResult } from './scrape.js';

export const BUSY_SECTION_HEADING = 'bench:scrape (busy: full-rate ingest, PostgreSQL locked)';
const BUSY_TARGET_P99_MS = 100;
const MiB = 1024 * 1024;
const MAX_BACKLOG_BYTES = 128 * MiB;
const ROTATE_BYTES = 512 * MiB;
/** The exporter has read this much before the busy measurement starts (start-up of the writer and the tailer). */
const BUSY_WARMUP_BYTES = 64 * MiB;
const LOCKED_TIMEOUTS_S = [1, 2, 5, 10];
const EXPORTER_BIN = fileURLToPath(new URL('../../bin/crm-exporter.js', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Sum of the samples of `name` whose label text contains `labels` (e.g. `collector="postgres"`). */
function sample(body: string, name: string, labels = ''): number {
  let sum = 0;
  let found = false;
  for (const m of body.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if (!(m[1] ?? '').includes(labels)) continue;
    sum += Number(m[2]);
    found = true;
  }
  return found ? sum : NaN;
}

interface Scrape {
  /** performance.now() at the start. */
  at: number;
  ms: number;
  /** During this scrape (/proc schedstat, ms): the exporter's main thread runnable but waiting for a CPU, and on a CPU. */
  exporterWaitMs: number;
  exporterCpuMs: number;
  /** The bench's main thread (the scrape client) runnable but waiting for a CPU. */
  clientWaitMs: number;
  status: number;
  body: string;
}

/**
 * Time a process's main thread (where Node's event loop runs) has spent on a CPU and runnable but waiting for one, ms:
 * the first two fields of /proc/<pid>/task/<pid>/schedstat. NaN where the file is missing.
 */
function schedstat(pid: number | undefined): { cpu: number; wait: number } {
  if (pid === undefined) return { cpu: NaN, wait: NaN };
  try {
    const [cpu, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
    return { cpu: Number(cpu) / 1e6, wait: Number(wait) / 1e6 };
  } catch {
    return { cpu: NaN, wait: NaN };
  }
}

async function scrape(url: string, timeoutS = 10, pid?: number): Promise<Scrape> {
  const exporter0 = schedstat(pid);
  const client0 = schedstat(process.pid);
  const at = performance.now();
  const res = await fetch(url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutS) } });
  const body = await res.text();
  const ms = performance.now() - at;
  const exporter1 = schedstat(pid);
  return {
    at,
    ms,
    exporterWaitMs: exporter1.wait - exporter0.wait,
    exporterCpuMs: exporter1.cpu - exporter0.cpu,
    clientWaitMs: schedstat(process.pid).wait - client0.wait,
    status: res.status,
    body,
  };
}

/** `n` scrapes started every `intervalMs` (the next at once when one took longer); `each` sees every one. */
async function scrapeEvery(
  url: string,
  pid: number,
  n: number,
  intervalMs: number,
  each: (s: Scrape) => void = () => undefined,
): Promise<Scrape[]> {
  const out: Scrape[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + i * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const s = await scrape(url, 10, pid);
    if (s.status !== 200) throw new Error(`${url}: HTTP ${s.status}`);
    each(s);
    out.push(s);
  }
  return out;
}

interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function latencyOf(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

const latency = (scrapes: readonly Scrape[]): Latency => latencyOf(scrapes.map((s) => s.ms));

/** Where the time of the slowest 5 % of `scrapes` went (means over them, ms). */
interface TailBreakdown {
  n: number;
  ms: number;
  exporterWait: number;
  exporterCpu: number;
  clientWait: number;
}

function tailBreakdown(scrapes: readonly Scrape[]): TailBreakdown {
  const slowest = [...scrapes].sort((a, b) => b.ms - a.ms).slice(0, Math.max(1, Math.ceil(scrapes.length / 20)));
  const avg = (f: (s: Scrape) => number): number => slowest.reduce((a, s) => a + f(s), 0) / slowest.length;
  return {
    n: slowest.length,
    ms: avg((s) => s.ms),
    exporterWait: avg((s) => s.exporterWaitMs),
    exporterCpu: avg((s) => s.exporterCpuMs),
    clientWait: avg((s) => s.clientWaitMs),
  };
}

async function startExporter(
  dir: string,
  name: string,
  extra: Record<string, unknown>,
  log: string,
): Promise<{ url: string; pid: number; stop(): Promise<void>; stderr(): string }> {
  const port = await freePort();
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      positions_file: join(dir, `${name}-positions.json`),
      logs: [{ name: 'busy', path: log, format: 'nginx', log_format: NGINX_BENCH_FORMAT, start_at: 'beginning' }],
      ...extra,
    }),
  );
  // BENCH_EXPORTER_NODE_ARGS: Node.js flags for the exporter processes, for diagnosis (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  const nodeArgs = (process.env.BENCH_EXPORTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = await startChild(
    process.execPath,
    [...nodeArgs, EXPORTER_BIN, '--config', config],
    {},
    `http://127.0.0.1:${port}/healthz`,
  );
  return { url: `http://127.0.0.1:${port}/metrics`, ...child };
}

// ------------------------------------------------------------------------------------------- 1. scrapes while busy

interface BusyResult {
  idle: Latency;
  busy: Latency;
  /** The slowest 5 % of each phase's scrapes: where their time went. */
  tails: { idle: TailBreakdown; busy: TailBreakdown; contended: TailBreakdown };
  /** Busy again, with one busy-loop process per core competing (informational). */
  contended: { latency: Latency; linesPerSecond: number; exporterCores: number; loopLagMaxMs: number; starved: number };
  linesPerSecond: number;
  mibPerSecond: number;
  exporterCores: number;
  /** Busy scrapes at which the writer was not ahead of what the exporter had read (it had nothing to read). */
  starved: number;
  loopLagMaxMs: { idle: number; busy: number };
  written: WriterResult;
  counted: number;
  rotationsCounted: number;
  series: number;
}

async function scrapesWhileBusy(dir: string, scrapes: number, intervalMs: number): Promise<BusyResult> {
  const log = join(dir, 'access.log');
  await writeFile(log, '');
  const exporter = await startExporter(dir, 'busy', {}, log);
  let worker: Worker | undefined;
  try {
    await scrapeEvery(exporter.url, exporter.pid, 20, intervalMs); // warm-up
    const idle = await scrapeEvery(exporter.url, exporter.pid, scrapes, intervalMs);

    const shared = new BigInt64Array(new SharedArrayBuffer(SHARED_SLOTS * 8));
    const data: WriterData = {
      log,
      shared: shared.buffer as SharedArrayBuffer,
      distinctLines: 200_000,
      maxBacklogBytes: MAX_BACKLOG_BYTES,
      rotateBytes: ROTATE_BYTES,
    };
    worker = new Worker(new URL('./busy-writer.js', import.meta.url), { workerData: data });
    const done = new Promise<WriterResult>((resolve, reject) => {
      worker?.once('message', resolve);
      worker?.once('error', reject);
    });
    let starvedNow = false;
    const track = (s: Scrape): void => {
      const read = sample(s.body, 'crm_log_bytes_read_total');
      Atomics.store(shared, READ, BigInt(read));
      starvedNow = Atomics.load(shared, WRITTEN) <= BigInt(read);
    };
    for (let i = 0; Number(Atomics.load(shared, READ)) < BUSY_WARMUP_BYTES; i++) {
      if (i > 600) throw new Error('the exporter did not start reading within 60 s');
      track(await scrape(exporter.url));
      await sleep(intervalMs);
    }
    let starved = 0;
    const busy = await scrapeEvery(exporter.url, exporter.pid, scrapes, intervalMs, (s) => {
      track(s);
      if (starvedNow) starved++;
    });
    // The same again while one busy loop per core competes for the CPUs (informational; see the header).
    const spinners = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    let contended: Scrape[];
    let contendedStarved = 0;
    try {
      contended = await scrapeEvery(exporter.url, exporter.pid, Math.ceil(scrapes / 2), intervalMs, (s) => {
        track(s);
        if (starvedNow) contendedStarved++;
      });
    } finally {
      for (const spinner of spinners) spinner.kill('SIGKILL');
    }
    Atomics.store(shared, STOP, 1n);
    Atomics.notify(shared, STOP);
    const written = await done;
    if (Atomics.load(shared, LINES) !== BigInt(written.lines)) throw new Error('writer counts disagree');

    // every line written counted once: wait until the exporter has caught up (or stopped moving for 10 s)
    let counted = -1;
    let last = performance.now();
    let final: Scrape | undefined;
    for (;;) {
      final = await scrape(exporter.url);
      const now = sample(final.body, 'crm_log_lines_total');
      if (now !== counted) last = performance.now();
      counted = now;
      if (counted >= written.lines || performance.now() - last > 10_000) break;
      await sleep(100);
    }

    const first = busy[0] as Scrape;
    const lastBusy = busy[busy.length - 1] as Scrape;
    const seconds = (lastBusy.at - first.at) / 1000;
    const delta = (name: string): number => sample(lastBusy.body, name) - sample(first.body, name);
    const lagMax = (list: Scrape[]): number =>
      Math.max(...list.map((s) => sample(s.body, 'nodejs_eventloop_lag_max_seconds') * 1000));
    const c0 = contended[0] as Scrape;
    const c1 = contended[contended.length - 1] as Scrape;
    const cSeconds = (c1.at - c0.at) / 1000;
    return {
      idle: latency(idle),
      busy: latency(busy),
      tails: { idle: tailBreakdown(idle), busy: tailBreakdown(busy), contended: tailBreakdown(contended) },
      contended: {
        latency: latency(contended),
        linesPerSecond: (sample(c1.body, 'crm_log_lines_total') - sample(c0.body, 'crm_log_lines_total')) / cSeconds,
        exporterCores:
          (sample(c1.body, 'process_cpu_seconds_total') - sample(c0.body, 'process_cpu_seconds_total')) / cSeconds,
        loopLagMaxMs: lagMax(contended),
        starved: contendedStarved,
      },
      linesPerSecond: delta('crm_log_lines_total') / seconds,
      mibPerSecond: delta('crm_log_bytes_read_total') / MiB / seconds,
      exporterCores: delta('process_cpu_seconds_total') / seconds,
      starved,
      loopLagMaxMs: { idle: lagMax(idle), busy: lagMax(busy) },
      written,
      counted,
      rotationsCounted: sample(final.body, 'crm_log_rotations_total'),
      series: final.body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
    };
  } finally {
    if (worker) await worker.terminate();
    await exporter.stop();
  }
}

// ------------------------------------------------------------------------------------- 2. PostgreSQL made slow

interface LockedScrape {
  timeoutS: number;
  ms: number;
  status: number;
  postgresSuccess: number;
  /** crm_pg_* sample lines served (the collector's families are reset when it fails), and their metric names. */
  pgSamples: number;
  pgNames: string[];
  /** The exporter's backend was seen waiting for a lock (pg_stat_activity) while this scrape was in flight. */
  sawLockWait: boolean;
}

interface LockedResult {
  before: { ms: number; postgresSuccess: number; pgSamples: number }[];
  locked: LockedScrape[];
  waitingQuery: string;
  recovery: { scrapes: number; seconds: number; postgresSuccess: number };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function scrapesWhilePostgresLocked(dir: string, pgUrl: string, rounds: number): Promise<LockedResult> {
  const database = `crm_bench_busy_${randomBytes(4).toString('hex')}`;
  const dbUrl = withDatabase(pgUrl, database);
  const admin = new pg.Client({ connectionString: pgUrl, application_name: 'crm-bench' });
  await admin.connect();
  let locker: pg.Client | undefined;
  let exporter: Awaited<ReturnType<typeof startExporter>> | undefined;
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    const seed = new pg.Client({ connectionString: dbUrl, application_name: 'crm-bench' });
    await seed.connect();
    await seed.query(`CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
                      INSERT INTO customers SELECT g, 'Customer ' || g FROM generate_series(1, 10000) g; ANALYZE customers`);
    await seed.end();
    const log = join(dir, 'locked.log');
    await writeFile(log, '');
    exporter = await startExporter(dir, 'locked', { postgres: { url: dbUrl, databases: [database] } }, log);
    const url = exporter.url;
    const success = (body: string): number => sample(body, 'crm_scrape_collector_success', 'collector="postgres"');
    const pgSamplesIn = (body: string): number => body.split('\n').filter((line) => line.startsWith('crm_pg_')).length;

    const before: LockedResult['before'] = [];
    for (let i = 0; i < 10; i++) {
      const s = await scrape(url, 2);
      before.push({ ms: s.ms, postgresSuccess: success(s.body), pgSamples: pgSamplesIn(s.body) });
    }

    locker = new pg.Client({ connectionString: dbUrl, application_name: 'crm-bench-locker' });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');

    const locked: LockedScrape[] = [];
    let waitingQuery = '';
    for (let round = 0; round < rounds; round++) {
      for (const timeoutS of LOCKED_TIMEOUTS_S) {
        let inFlight = true;
        let sawLockWait = false;
        const watcher = (async () => {
          while (inFlight) {
            await sleep(200);
            const { rows } = await admin.query<{ query: string }>(
              "SELECT query FROM pg_stat_activity WHERE datname = $1 AND application_name = 'crm-exporter' AND wait_event_type = 'Lock'",
              [database],
            );
            if (rows.length > 0 && inFlight) {
              sawLockWait = true;
              waitingQuery ||= (rows[0]?.query ?? '').replace(/\s+/g, ' ').trim();
            }
          }
        })();
        const s = await scrape(url, timeoutS);
        inFlight = false;
        await watcher;
        const pgNames = [
          ...new Set(
            s.body
              .split('\n')
              .filter((line) => line.startsWith('crm_pg_'))
              .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? ''),
          ),
        ];
        locked.push({
          timeoutS,
          ms: s.ms,
          status: s.status,
          postgresSuccess: success(s.body),
          pgSamples: pgSamplesIn(s.body),
          pgNames,
          sawLockWait,
        });
      }
    }

    await locker.query('ROLLBACK');
    const released = performance.now();
    let recovery = { scrapes: 0, seconds: NaN, postgresSuccess: 0 };
    for (let i = 1; i <= 30; i++) {
      const s = await scrape(url, 2);
      recovery = { scrapes: i, seconds: (performance.now() - released) / 1000, postgresSuccess: success(s.body) };
      if (recovery.postgresSuccess === 1) break;
      await sleep(500);
    }
    return { before, locked, waitingQuery, recovery };
  } finally {
    await locker?.end().catch(() => undefined);
    await exporter?.stop();
    await admin
      .query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      .catch((err: Error) => process.stderr.write(`drop ${database}: ${err.message}\n`));
    await admin.end();
  }
}

// ------------------------------------------------------------------------------------------------ the section

const f2 = (n: number): string => n.toFixed(2);

/** "avg10 % / avg60 %" of /proc/pressure/cpu (some), or "n/a". */
export function cpuPressure(): string {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
    const m = /avg10=(\S+) avg60=(\S+)/.exec(some);
    return m ? `${m[1]} % / ${m[2]} %` : 'n/a';
  } catch {
    return 'n/a';
  }
}
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function busySection(options: BenchOptions): Promise<SectionResult> {
  const scrapes = Number(arg('--busy-scrapes') ?? 300);
  const intervalMs = Number(arg('--busy-interval') ?? 100);
  const rounds = Number(arg('--locked-rounds') ?? 3);
  const dir = await mkdtemp(join(tmpdir(), 'crm-bench-scrape-busy-'));
  const loadStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const psiStart = cpuPressure();
  try {
    process.stderr.write('busy: scrapes while ingesting ...\n');
    const b = await scrapesWhileBusy(dir, scrapes, intervalMs);
    const loadMid = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const psiMid = cpuPressure();
    process.stderr.write('busy: scrapes while PostgreSQL is locked ...\n');
    const l = await scrapesWhilePostgresLocked(dir, options.pgUrl, rounds);
    const loadEnd = loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');

    const exact = b.counted === b.written.lines;
    const busyMet = b.busy.p99 <= BUSY_TARGET_P99_MS;
    const inTime = l.locked.filter((s) => s.status === 200 && s.ms < s.timeoutS * 1000);
    const failedPg = l.locked.filter((s) => s.postgresSuccess === 0);
    const lockedMet =
      inTime.length === l.locked.length && failedPg.length === l.locked.length && l.recovery.postgresSuccess === 1;
    const command = `npm run bench:scrape -- ${process.argv.slice(2).join(' ')}`.trim();
    const row = (name: string, x: Latency, extra: string): string =>
      `| ${name} | ${x.n} | ${f2(x.p50)} | ${f2(x.p95)} | ${f2(x.p99)} | ${f2(x.max)} | ${extra} |`;
    const byTimeout = LOCKED_TIMEOUTS_S.map((t) => {
      const list = l.locked.filter((s) => s.timeoutS === t);
      const ms = list.map((s) => s.ms);
      return `| ${t} s | ${t * 1000 - 500} ms | ${list.length} | ${f2(Math.min(...ms))} | ${f2(Math.max(...ms))} | ${list.filter((s) => s.status === 200 && s.ms < t * 1000).length} / ${list.length} | ${list.filter((s) => s.postgresSuccess === 0).length} / ${list.length} | ${list.filter((s) => s.sawLockWait).length} / ${list.length} | ${Math.max(...list.map((s) => s.pgSamples))} |`;
    });
    const beforeMs = l.before.map((s) => s.ms).sort((a, c) => a - c);
    const md = [
      `Run: \`${command}\` (${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}).`,
      `Machine load (1/5/15-min load average): ${loadStart} at the start, ${loadMid} after part 1, ${loadEnd} at the end; CPU pressure`,
      `(/proc/pressure/cpu, share of time some runnable task waited for a CPU, avg10/avg60): ${psiStart} at the start, ${psiMid} after part 1. The 2 cores are shared`,
      'with other work (other sessions building and testing on the same machine), so absolute numbers swing from run to run; the idle',
      'baseline is measured in the same run, by the same exporter process, with the same scrape client.',
      '',
      '### Scrapes while ingesting at the fastest rate the tailer sustains',
      '',
      'The exporter CLI (`bin/crm-exporter.js`, one nginx log source, `start_at: beginning`, defaults otherwise) tails a log that a worker',
      `thread of the bench fills with pre-generated lines in ~4 MiB appends, as fast as it can but at most ${MAX_BACKLOG_BYTES / MiB} MiB ahead of the exporter's`,
      `\`crm_log_bytes_read_total\` (so the exporter always has bytes waiting), renaming the log every ${ROTATE_BYTES / MiB} MiB to bound the disk. /metrics is scraped`,
      `every ${intervalMs} ms (a full GET, body read): ${scrapes} scrapes while the log is idle (after 20 warm-up), then ${scrapes} while busy (after the exporter`,
      `had read ${BUSY_WARMUP_BYTES / MiB} MiB).`,
      '',
      '| phase | scrapes | p50 ms | p95 ms | p99 ms | max ms | notes |',
      '|---|---:|---:|---:|---:|---:|---|',
      row('idle (baseline)', b.idle, `event-loop lag max ${f2(b.loopLagMaxMs.idle)} ms`),
      row(
        'busy',
        b.busy,
        `ingest ${int(b.linesPerSecond)} lines/s (${f2(b.mibPerSecond)} MiB/s), exporter CPU ${f2(b.exporterCores)} cores, event-loop lag max ${f2(b.loopLagMaxMs.busy)} ms, starved at ${b.starved} of ${b.busy.n} scrapes`,
      ),
      row(
        `busy + ${cpus().length} busy loops`,
        b.contended.latency,
        `ingest ${int(b.contended.linesPerSecond)} lines/s, exporter CPU ${f2(b.contended.exporterCores)} cores, event-loop lag max ${f2(b.contended.loopLagMaxMs)} ms, starved at ${b.contended.starved} of ${b.contended.latency.n} scrapes`,
      ),
      '',
      `The "busy + ${cpus().length} busy loops" row repeats the busy phase (${Math.ceil(scrapes / 2)} scrapes) while one \`node -e "for (;;) {}"\` process per core competes`,
      'for the CPUs: what a saturated machine does to the scrape of an exporter that is itself CPU-bound (informational; the target is judged',
      'on the "busy" row).',
      '',
      "Where the time of the slowest 5 % of each phase's scrapes went (means over those scrapes, ms), from `/proc/<pid>/task/<pid>/schedstat`",
      "of the exporter's main thread (where its event loop runs: render and ingest slices alike) and of the bench's main thread (the scrape",
      'client), read just before and after each scrape. "Waiting for a CPU" is time the thread was runnable but not running: the machine\'s',
      "other work decided it, not the exporter. The window is the client's (its own delays widen it) and the kernel updates these counters",
      'when a thread is switched, so the columns do not add up to the latency: they say which part dominates.',
      '',
      '| phase | scrapes | latency | exporter waiting for a CPU | exporter on a CPU | bench client waiting for a CPU |',
      '|---|---:|---:|---:|---:|---:|',
      ...(
        [
          ['idle (baseline)', b.tails.idle],
          ['busy', b.tails.busy],
          [`busy + ${cpus().length} busy loops`, b.tails.contended],
        ] as const
      ).map(
        ([name, t]) =>
          `| ${name} | ${t.n} | ${f2(t.ms)} | ${f2(t.exporterWait)} | ${f2(t.exporterCpu)} | ${f2(t.clientWait)} |`,
      ),
      '',
      `Busy / idle: p50 ${f2(b.busy.p50 / b.idle.p50)}×, p99 ${f2(b.busy.p99 / b.idle.p99)}×. Event-loop lag is the exporter's own`,
      '`nodejs_eventloop_lag_max_seconds` (prom-client, reset at every scrape), max over the phase. "starved": the writer was not ahead of what the',
      `exporter had read when that scrape answered. Exposition: ${b.series} samples.`,
      `Lines: ${int(b.written.lines)} written (${f2(b.written.bytes / MiB / 1024)} GiB, ${b.written.rotations} renames; the writer spent ${f2(b.written.writeSeconds)} s in write(2)),`,
      `${int(b.counted)} counted by the exporter (${b.rotationsCounted} rotations seen): ${exact ? 'exact' : '**NOT exact**'}.`,
      '',
      `Target: busy p99 <= ${BUSY_TARGET_P99_MS} ms: **${busyMet ? 'met' : 'NOT met'}** (${f2(b.busy.p99)} ms).`,
      '',
      '### Scrapes while PostgreSQL is slow (a locked table)',
      '',
      'A second exporter process: the same log source (idle) plus `postgres: { url: <db>, databases: [<db>] }` (defaults otherwise:',
      '`postgres.timeout` 5 s = statement_timeout, scrape margin 500 ms) on a database the bench creates (`crm_bench_busy_*`, one 10,000-row',
      'table, dropped afterwards). Another session runs `BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE` and keeps the transaction',
      "open. pg_stat_user_tables itself takes no lock, but `pg_table_size(relid)` in the collector's table query opens each table with an",
      'ACCESS SHARE lock, so that query waits behind the lock (and, per database, holds the one connection the collector has there, so',
      "the next scrape's queries wait for it). During each scrape a watcher polls pg_stat_activity for an `application_name = crm-exporter`",
      `backend with \`wait_event_type = Lock\`; the waiting query seen: \`${l.waitingQuery.slice(0, 90)}${l.waitingQuery.length > 90 ? ' …' : ''}\`.`,
      `Scrapes in turn with \`X-Prometheus-Scrape-Timeout-Seconds\` ${LOCKED_TIMEOUTS_S.join(', ')} (${rounds} rounds); the exporter's deadline is that minus the margin.`,
      '',
      '| scrape timeout (header) | collector deadline | scrapes | min ms | max ms | answered 200 within the timeout | postgres success 0 | lock wait seen | crm_pg_* samples served (max) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...byTimeout,
      '',
      `Before the lock: ${l.before.length} scrapes (timeout 2 s), p50 ${f2(percentile(beforeMs, 50))} ms, max ${f2(beforeMs[beforeMs.length - 1] ?? NaN)} ms, postgres success 1 in`,
      `${l.before.filter((s) => s.postgresSuccess === 1).length} / ${l.before.length}, ${l.before[l.before.length - 1]?.pgSamples ?? '?'} crm_pg_* samples served. After \`ROLLBACK\`: postgres success ${l.recovery.postgresSuccess} at scrape ${l.recovery.scrapes}, ${f2(l.recovery.seconds)} s after`,
      `the release${l.recovery.scrapes > 1 ? ' (the scrapes in between still waited for the connection that the last blocked query held until its statement_timeout)' : ''}.`,
      'With a timeout above `postgres.timeout` (the 10 s row) the scrape ends before its deadline: its table query starts once the previous',
      "scrape's abandoned one has released the collector's one connection to that database (at that query's statement_timeout) and is",
      'cancelled by its own statement_timeout 5 s later, so the collector fails with an error (one log line) rather than a timeout. Below it,',
      `the orchestrator gives up at the deadline. Either way the scrape is served without the PostgreSQL families (left while locked:`,
      `${[...new Set(l.locked.flatMap((x) => x.pgNames))].map((n) => `\`${n}\``).join(', ') || 'none'}).`,
      '',
      `Target: every locked scrape answered within its timeout with \`crm_scrape_collector_success{collector="postgres"} 0\`, and success again after`,
      `the release: **${lockedMet ? 'met' : 'NOT met'}** (${inTime.length} / ${l.locked.length} in time, ${failedPg.length} / ${l.locked.length} with success 0, recovered: ${l.recovery.postgresSuccess === 1 ? 'yes' : 'no'}).`,
    ].join('\n');
    return { heading: BUSY_SECTION_HEADING, markdown: md, targetMet: busyMet && exact && lockedMet };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
