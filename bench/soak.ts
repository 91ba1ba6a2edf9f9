/**
 * bench:soak (issue 11 B7): the reference CRM under steady load for 10 minutes, its access log rotated every minute by
 * Debian's logrotate, the exporter CLI tailing it and scraped every 5 s. Lines lost (must be 0), the exporter's RSS
 * over the run, scrape latency.
 *
 *   npm run bench:soak [-- --write-results]
 *   BENCH_SOAK_SECONDS=600 BENCH_SOAK_RATE=50 BENCH_SOAK_ROTATE_S=60 BENCH_SOAK_SCRAPE_S=5 BENCH_PG_URL=... BENCH_REDIS_URL=...
 *   (BENCH_SOAK_SECONDS=30 BENCH_SOAK_ROTATE_S=10 for a smoke run)
 *
 * - The CRM (bin/crm-service.js) on a database the bench creates and seeds (10,000 customers) and its own Redis key
 *   prefix, writing its JSON access log to a file. Both are removed at the end.
 * - The exporter (bin/crm-exporter.js) as a user runs it: the access log (json, routes templated), PostgreSQL (the
 *   CRM's database), Redis (the CRM's keys in 2 key groups) and a probe of the CRM's /healthz; defaults otherwise.
 * - The load generator (bin/crm-loadgen.js, scenario steady, open model at BENCH_SOAK_RATE requests/s).
 * - Every BENCH_SOAK_ROTATE_S, `logrotate -f` with a config the bench writes, alternating:
 *     create        rename + new file, postrotate `kill -HUP <crm>`: the CRM reopens its log;
 *     copytruncate  copy, then truncate in place. logrotate itself loses what the CRM writes between the copy and the
 *                   truncation (docs/failure-modes.md), which would hide or fake an exporter loss: the bench stops the
 *                   CRM (SIGSTOP, every thread stopped) around logrotate and resumes it (SIGCONT) at once, so every
 *                   line the CRM writes is in some file and any line missing is the exporter's.
 * - A scrape every BENCH_SOAK_SCRAPE_S (X-Prometheus-Scrape-Timeout-Seconds = that interval, as Prometheus sends),
 *   and the exporter's VmRSS from /proc at each scrape.
 * At the end (the CRM stopped, so its log is flushed) the exporter's crm_http_requests_total by status, without the
 * probe's /healthz (and the bench's /readyz) requests, must equal the load generator's completed requests by status,
 * and crm_log_lines_total the lines in all the files.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { migrate } from '../src/crm/db/migrate.js';
import { seed } from '../src/crm/seed.js';
import type { LoadSummary } from '../src/loadgen/runner.js';
import { freePort } from '../test/helpers/net.js';
import { writeResultsSection } from './results-file.js';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 50);
const ROTATE_S = Number(process.env.BENCH_SOAK_ROTATE_S ?? 60);
const SCRAPE_S = Number(process.env.BENCH_SOAK_SCRAPE_S ?? 5);
const CUSTOMERS = 10_000;
/** RSS samples before this are warm-up (module loading, first collector rounds, first pools). */
const WARMUP_S = Math.min(60, SECONDS / 5);
/** Routes that are not the load generator's: the exporter's probe and the bench's readiness checks. */
const NOT_LOAD_ROUTES = new Set(['/healthz', '/readyz']);
/**
 * "No growth beyond noise". RSS follows V8's committed heap, which grows and shrinks by tens of MiB between major GCs
 * (a saw-tooth), so two single samples or two short windows differ by that much without any leak. The criterion: the
 * highest RSS of the second half of the run (after warm-up) at most this much above the highest of the first half. A
 * leak raises every later peak; a heap that has settled does not.
 */
const RSS_GROWTH_LIMIT = 0.1;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const say = (s: string): void => void process.stderr.write(`bench:soak: ${s}\n`);
const MiB = 1024 * 1024;

type Counts = Record<string, number>;

interface Child {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  stop(): Promise<number | null>;
}

function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Child {
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, script), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume(); // never let an unread pipe block a child; a 'data' listener added in the same tick still gets everything
  return {
    child,
    pid: child.pid as number,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function waitOk(url: string, child: Child, name: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.child.exitCode !== null)
      throw new Error(`${name} exited with ${child.child.exitCode}: ${child.stderr()}`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer ${url} within 30 s: ${child.stderr()}`);
}

/** SIGSTOP, resolved once every thread of the process is stopped (no write of it is still in flight). */
async function pause(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  for (let i = 0; i < 500; i++) {
    let all = true;
    for (const task of await readdir(`/proc/${pid}/task`)) {
      const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => '');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (stat !== '' && state !== 'T' && state !== 't') all = false;
    }
    if (all) return;
    await sleep(2);
  }
  throw new Error(`process ${pid} did not stop`);
}

function rssMiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1] ?? NaN) / 1024);
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samples(body: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const m of body.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name, labels, value: Number(m[2]) });
  }
  return out;
}

const sum = (list: Sample[]): number => list.reduce((a, s) => a + s.value, 0);

/** crm_http_requests_total by status, the load generator's routes only. */
function loadRequestsByStatus(body: string): Counts {
  const counts: Counts = {};
  for (const s of samples(body, 'crm_http_requests_total')) {
    if (NOT_LOAD_ROUTES.has(s.labels.route ?? '')) continue;
    const status = s.labels.status ?? '?';
    counts[status] = (counts[status] ?? 0) + s.value;
  }
  return counts;
}

/** Lines in the access log and every rotated file: all, and by status without the NOT_LOAD_ROUTES. */
async function linesOnDisk(dir: string): Promise<{ total: number; load: Counts; files: number }> {
  const load: Counts = {};
  let total = 0;
  let files = 0;
  for (const name of await readdir(dir)) {
    if (!/^access\.log(\.\d+)?$/.test(name)) continue;
    files++;
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line === '') continue;
      total++;
      const entry = JSON.parse(line) as { status: number; route?: string; path?: string };
      if (NOT_LOAD_ROUTES.has(entry.route ?? entry.path ?? '')) continue;
      load[String(entry.status)] = (load[String(entry.status)] ?? 0) + 1;
    }
  }
  return { total, load, files };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface ScrapeRecord {
  /** Seconds since the load started (negative: before). */
  t: number;
  ms: number;
  status: number;
  rssMiB: number;
  heapMiB: number;
  /** nodejs_heap_size_total_bytes and nodejs_external_memory_bytes, MiB. */
  heapTotalMiB: number;
  externalMiB: number;
  /** Open file descriptors of the exporter (/proc/<pid>/fd). */
  fds: number;
  failedCollectors: string[];
}

/** A `--trace-gc` line of a full GC: "<ms since start> ms: Mark-Compact[ (reduce)] A (B) -> C (D) MB". */
const MARK_COMPACT = /\b(\d+(?:\.\d+)?) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

interface MajorGc {
  /** performance.now() in the bench (approximate: the exporter's clock starts at its spawn). */
  at: number;
  /** Heap after the GC (live), and committed, in MB as V8 prints them (MiB). */
  afterMiB: number;
  committedMiB: number;
}

interface Rotation {
  t: number;
  mode: 'create' | 'copytruncate';
  /** copytruncate: how long the CRM was stopped. */
  pausedMs?: number;
}

async function main(): Promise<void> {
  const loadStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const started = new Date();
  const id = randomBytes(4).toString('hex');
  const dbName = `crm_bench_soak_${id}`;
  const prefix = `crmsoak:${id}:`;
  const dir = await mkdtemp(join(tmpdir(), 'crm-bench-soak-'));
  const accessLog = join(dir, 'access.log');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const redis = new Redis(REDIS_URL);
  let crm: Child | undefined;
  let exporter: Child | undefined;
  let loadgen: Child | undefined;
  try {
    await admin.query(`CREATE DATABASE ${dbName} TEMPLATE template0`);
    const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 4 });
    try {
      await migrate(pool);
      await seed(pool, { customers: CUSTOMERS, users: 0 });
    } finally {
      await pool.end();
    }

    const crmPort = await freePort();
    const crmUrl = `http://127.0.0.1:${crmPort}`;
    crm = spawnNode('bin/crm-service.js', ['serve'], {
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL,
      HOST: '127.0.0.1',
      PORT: String(crmPort),
      ACCESS_LOG: accessLog,
      REDIS_PREFIX: prefix,
    });
    await waitOk(`${crmUrl}/readyz`, crm, 'crm-service');

    const exporterPort = await freePort();
    const metricsUrl = `http://127.0.0.1:${exporterPort}/metrics`;
    const config = join(dir, 'crm-exporter.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: `127.0.0.1:${exporterPort}`,
        positions_file: join(dir, 'positions.json'),
        logs: [
          {
            name: 'crm',
            path: accessLog,
            format: 'json',
            start_at: 'beginning',
            routes: [
              '/api/customers/:id',
              '/api/customers/:id/points',
              '/api/customers/:id/notes',
              '/api/users/:id/password',
            ],
          },
        ],
        postgres: { url: dbUrl.toString(), databases: [dbName] },
        redis: {
          url: REDIS_URL,
          key_groups: [
            { name: 'cache', pattern: `${prefix}customer:*` },
            { name: 'locks', pattern: `${prefix}lock:*` },
          ],
        },
        probe: { url: `${crmUrl}/healthz` },
      }),
    );
    // --trace-gc (V8 prints one line per GC on stdout; the exporter logs on stderr): the heap left after each full
    // (mark-compact) GC is the live heap, the number a leak raises, whatever V8's committed heap does to RSS.
    const exporterStarted = performance.now();
    exporter = spawnNode('bin/crm-exporter.js', ['--config', config], {}, ['--trace-gc']);
    const majorGcs: MajorGc[] = [];
    let gcOut = '';
    exporter.child.stdout?.on('data', (d: Buffer) => {
      gcOut += d.toString();
      const lines = gcOut.split('\n');
      gcOut = lines.pop() ?? '';
      for (const line of lines) {
        const m = MARK_COMPACT.exec(line);
        if (m)
          majorGcs.push({ at: exporterStarted + Number(m[1]), afterMiB: Number(m[2]), committedMiB: Number(m[3]) });
      }
    });
    await waitOk(`http://127.0.0.1:${exporterPort}/healthz`, exporter, 'crm-exporter');

    const confs = {
      create: join(dir, 'logrotate-create.conf'),
      copytruncate: join(dir, 'logrotate-copytruncate.conf'),
    };
    const keep = Math.ceil(SECONDS / ROTATE_S) + 5;
    await writeFile(
      confs.create,
      `${accessLog} {\n  rotate ${keep}\n  missingok\n  nocompress\n  create\n  postrotate\n    kill -HUP ${crm.pid}\n  endscript\n}\n`,
      { mode: 0o644 },
    );
    await writeFile(
      confs.copytruncate,
      `${accessLog} {\n  rotate ${keep}\n  missingok\n  nocompress\n  copytruncate\n}\n`,
      { mode: 0o644 },
    );

    say(`${SECONDS} s at ${RATE} req/s, a rotation every ${ROTATE_S} s, a scrape every ${SCRAPE_S} s (dir ${dir})`);
    loadgen = spawnNode('bin/crm-loadgen.js', [
      '--url',
      crmUrl,
      '--scenario',
      'steady',
      '--rate',
      String(RATE),
      '--duration',
      `${SECONDS}s`,
      '--timeout',
      '20s',
      '--progress',
      '0',
      '--json',
    ]);
    let loadgenOut = '';
    loadgen.child.stdout?.on('data', (d: Buffer) => (loadgenOut += d.toString()));
    const loadgenExit = new Promise<number | null>((resolve) => loadgen?.child.once('exit', (code) => resolve(code)));
    const t0 = performance.now();
    const elapsed = (): number => (performance.now() - t0) / 1000;
    let loadDone = false;
    void loadgenExit.then(() => (loadDone = true));

    const scrapes: ScrapeRecord[] = [];
    let retries = 0;
    const networkErrors: string[] = [];
    const exporterPid = exporter.pid;
    const scraper = (async () => {
      for (let i = 0; !loadDone; i++) {
        const wait = t0 + i * SCRAPE_S * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
        if (loadDone) break;
        const at = performance.now();
        let res: Response | undefined;
        let body = '';
        for (let attempt = 0; attempt < 2 && !res; attempt++) {
          try {
            res = await fetch(metricsUrl, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(SCRAPE_S) } });
            body = await res.text();
          } catch (err) {
            // A kept-alive connection the server closed as the request went out (Node's keepAliveTimeout is 5 s, the
            // scrape interval too): retried once on a new connection, as Go's client (Prometheus) does for a GET.
            res = undefined;
            if (attempt === 0) retries++;
            else
              networkErrors.push(
                `${((at - t0) / 1000).toFixed(0)} s: ${err instanceof Error ? `${err.message} ${String((err.cause as Error | undefined)?.message ?? '')}` : String(err)}`,
              );
          }
        }
        const ms = performance.now() - at;
        scrapes.push({
          t: (at - t0) / 1000,
          ms,
          status: res?.status ?? 0,
          rssMiB: await rssMiB(exporterPid),
          heapMiB: sum(samples(body, 'nodejs_heap_size_used_bytes')) / MiB,
          heapTotalMiB: sum(samples(body, 'nodejs_heap_size_total_bytes')) / MiB,
          externalMiB: sum(samples(body, 'nodejs_external_memory_bytes')) / MiB,
          fds: (await readdir(`/proc/${exporterPid}/fd`)).length,
          failedCollectors: samples(body, 'crm_scrape_collector_success')
            .filter((s) => s.value !== 1)
            .map((s) => s.labels.collector ?? '?'),
        });
      }
    })();
    scraper.catch(() => undefined); // awaited below; never an unhandled rejection that would leave the children running

    const rotations: Rotation[] = [];
    const rotator = (async () => {
      for (let k = 1; k * ROTATE_S < SECONDS; k++) {
        const wait = t0 + k * ROTATE_S * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
        if (loadDone) break;
        const mode = k % 2 === 1 ? 'create' : 'copytruncate';
        const t = elapsed();
        if (mode === 'create') {
          await run('logrotate', ['-f', '-s', join(dir, 'logrotate.state'), confs.create]);
          rotations.push({ t, mode });
        } else {
          const p0 = performance.now();
          await pause(crm!.pid);
          try {
            await run('logrotate', ['-f', '-s', join(dir, 'logrotate.state'), confs.copytruncate]);
          } finally {
            process.kill(crm!.pid, 'SIGCONT');
          }
          rotations.push({ t, mode, pausedMs: performance.now() - p0 });
        }
        say(`${t.toFixed(0)} s: rotation ${k} (${mode})`);
      }
    })();
    rotator.catch(() => undefined); // likewise

    const loadgenCode = await loadgenExit;
    const loadSeconds = elapsed();
    await Promise.all([scraper, rotator]);
    if (loadgenCode !== 0) throw new Error(`crm-loadgen exited ${loadgenCode}: ${loadgen.stderr()}`);
    const summary = JSON.parse(loadgenOut) as LoadSummary;
    // what the exporter logged while the CRM was up (afterwards its probe fails, as it should)
    const exporterLines = exporter
      .stderr()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const crmCode = await crm.stop(); // SIGTERM: the CRM flushes its access log
    const crmStderr = crm.stderr();
    crm = undefined;

    const disk = await linesOnDisk(dir);
    // settle: the exporter has read every line (or stopped moving for 10 s)
    let body = '';
    let last = -1;
    let lastChange = performance.now();
    for (;;) {
      body = await (await fetch(metricsUrl)).text();
      const lines = sum(samples(body, 'crm_log_lines_total'));
      if (lines !== last) lastChange = performance.now();
      last = lines;
      if (lines >= disk.total || performance.now() - lastChange > 10_000) break;
      await sleep(200);
    }
    await sleep(1_000); // a duplicate would arrive now
    body = await (await fetch(metricsUrl)).text();
    const exporterCode = await exporter.stop();
    const notable = exporterLines.filter((l) => !/ listening on /.test(l));
    exporter = undefined;

    const completed: Counts = Object.fromEntries(Object.entries(summary.byStatus).map(([s, n]) => [s, n]));
    const counted = loadRequestsByStatus(body);
    const statuses = [
      ...new Set([...Object.keys(completed), ...Object.keys(counted), ...Object.keys(disk.load)]),
    ].sort();
    let lost = 0;
    let duplicated = 0;
    for (const s of statuses) {
      const d = (counted[s] ?? 0) - (completed[s] ?? 0);
      if (d < 0) lost -= d;
      else duplicated += d;
    }
    const linesCounted = sum(samples(body, 'crm_log_lines_total'));
    const parseErrors = sum(samples(body, 'crm_log_parse_errors_total'));
    const rotationsSeen = sum(samples(body, 'crm_log_rotations_total'));

    // RSS: after warm-up; the first and last tenth of the run compared
    const steady = scrapes.filter((s) => s.t >= WARMUP_S);
    const tenth = Math.max(1, Math.floor(steady.length / 10));
    const head = steady.slice(0, tenth);
    const tail = steady.slice(-tenth);
    const rssHead = mean(head.map((s) => s.rssMiB));
    const rssTail = mean(tail.map((s) => s.rssMiB));
    const rssMax = Math.max(...steady.map((s) => s.rssMiB));
    const rssMin = Math.min(...steady.map((s) => s.rssMiB));
    const rssSlope = slope(
      steady.map((s) => s.t / 60),
      steady.map((s) => s.rssMiB),
    );
    const heapHead = mean(head.map((s) => s.heapMiB));
    const heapTail = mean(tail.map((s) => s.heapMiB));
    const growth = rssTail / rssHead - 1;
    const half = Math.floor(steady.length / 2);
    const peakFirst = Math.max(...steady.slice(0, half).map((s) => s.rssMiB));
    const peakSecond = Math.max(...steady.slice(half).map((s) => s.rssMiB));
    const peakGrowth = peakSecond / peakFirst - 1;
    const scrapeMs = scrapes.map((s) => s.ms);
    const steadyMs = steady.map((s) => s.ms);
    const failedScrapes = scrapes.filter((s) => s.status !== 200).length;
    const collectorFailures = scrapes.filter((s) => s.failedCollectors.length > 0);
    const loadEnd = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');

    const exact = lost === 0 && duplicated === 0 && linesCounted === disk.total;
    const rssOk = peakGrowth <= RSS_GROWTH_LIMIT;
    const gcs = majorGcs
      .map((g) => ({ ...g, t: (g.at - t0) / 1000 }))
      .filter((g) => g.t >= WARMUP_S && g.t <= loadSeconds);
    const gcHalf = Math.floor(gcs.length / 2);
    const liveFirst = Math.max(...gcs.slice(0, gcHalf).map((g) => g.afterMiB));
    const liveSecond = Math.max(...gcs.slice(gcHalf).map((g) => g.afterMiB));
    const liveGrowth = liveSecond / liveFirst - 1;
    // fewer than 2 full GCs after warm-up: nothing to compare (the heap did not even fill up once more)
    const liveOk = gcs.length < 2 || liveGrowth <= RSS_GROWTH_LIMIT;
    const minutes = new Map<number, number[]>();
    for (const x of scrapes)
      if (x.t >= 0) minutes.set(Math.floor(x.t / 60), [...(minutes.get(Math.floor(x.t / 60)) ?? []), x.rssMiB]);
    const perMinute = [...minutes]
      .map(([m, v]) => `${m + 1}: ${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)}`)
      .join(', ');
    const f2 = (n: number): string => n.toFixed(2);
    if (process.env.BENCH_SOAK_SAMPLES) {
      await writeFile(
        process.env.BENCH_SOAK_SAMPLES,
        `t_s,scrape_ms,status,rss_mib,heap_used_mib,heap_total_mib,external_mib,fds\n${scrapes.map((s) => `${f2(s.t)},${f2(s.ms)},${s.status},${f2(s.rssMiB)},${f2(s.heapMiB)},${f2(s.heapTotalMiB)},${f2(s.externalMiB)},${s.fds}`).join('\n')}\n`,
      );
    }
    const fmt = (n: number): string => n.toLocaleString('en-US');
    const table = statuses.map(
      (s) =>
        `| ${s} | ${fmt(completed[s] ?? 0)} | ${fmt(disk.load[s] ?? 0)} | ${fmt(counted[s] ?? 0)} | ${fmt(Math.max(0, (completed[s] ?? 0) - (counted[s] ?? 0)))} | ${fmt(Math.max(0, (counted[s] ?? 0) - (completed[s] ?? 0)))} |`,
    );
    const pauses = rotations.filter((r) => r.pausedMs !== undefined).map((r) => r.pausedMs as number);
    const command = `${process.env.BENCH_SOAK_SECONDS ? `BENCH_SOAK_SECONDS=${SECONDS} ` : ''}${process.env.BENCH_SOAK_ROTATE_S ? `BENCH_SOAK_ROTATE_S=${ROTATE_S} ` : ''}npm run bench:soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const md = [
      `Command: \`${command}\` (BENCH_SOAK_SECONDS=${SECONDS} BENCH_SOAK_RATE=${RATE} BENCH_SOAK_ROTATE_S=${ROTATE_S} BENCH_SOAK_SCRAPE_S=${SCRAPE_S}).`,
      '',
      `${started.toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'} · load average (1/5/15 min) ${loadStart} at the start, ${loadEnd} at the end.`,
      'The 2 cores are shared with other sessions building and testing on the same machine: latencies swing with their load.',
      '',
      `How: the reference CRM (\`bin/crm-service.js\`, database seeded with ${fmt(CUSTOMERS)} customers, own Redis prefix) writes its JSON access log;`,
      '`crm-loadgen --scenario steady` drives it at a fixed arrival rate; the exporter CLI tails the log (json, start_at beginning, routes templated)',
      "and also samples the CRM's PostgreSQL database, its Redis keys (2 key groups) and probes its /healthz. Every rotation is Debian's",
      '`logrotate -f` with a config the bench writes, alternating **create** (rename + new file, postrotate `kill -HUP` so the CRM reopens)',
      'and **copytruncate** (copy, then truncate in place; the bench stops the CRM with SIGSTOP around logrotate and resumes it at once, so',
      "logrotate's own loss window between copy and truncation is closed and every line the CRM writes lands in some file). A scrape every",
      `${SCRAPE_S} s with \`X-Prometheus-Scrape-Timeout-Seconds: ${SCRAPE_S}\`; the exporter's VmRSS read from /proc at each scrape. At the end the CRM is`,
      "stopped (its log flushed), the exporter allowed to settle, and its `crm_http_requests_total` by status (the probe's /healthz and the",
      "bench's /readyz requests left out) compared with the load generator's completed requests by status.",
      '',
      `Load: ${fmt(summary.sent)} requests in ${f2(loadSeconds)} s (${f2(summary.load.rps)} req/s of scenario traffic), ${summary.networkErrors} network errors, ${summary.dropped} dropped;`,
      `client latency p50 ${f2(summary.load.latency.p50)} ms, p99 ${f2(summary.load.latency.p99)} ms. Rotations: ${rotations.length} (${rotations.filter((r) => r.mode === 'create').length} create, ${pauses.length} copytruncate;`,
      `the CRM was stopped ${pauses.length > 0 ? `${f2(Math.min(...pauses))}-${f2(Math.max(...pauses))} ms` : '-'} per copytruncate), ${disk.files} files on disk at the end.`,
      '',
      '| status | completed (load generator) | lines on disk | counted (exporter) | lost | duplicated |',
      '|---|---:|---:|---:|---:|---:|',
      ...table,
      '',
      `Lines lost: **${fmt(lost)}**, duplicated: **${fmt(duplicated)}**. All lines (probe and readiness requests included): ${fmt(disk.total)} on disk,`,
      `${fmt(linesCounted)} in \`crm_log_lines_total\`; parse errors ${fmt(parseErrors)}; \`crm_log_rotations_total\` ${fmt(rotationsSeen)} for ${rotations.length} rotations.`,
      '',
      `Exporter RSS (VmRSS, MiB; warm-up = the first ${f2(WARMUP_S)} s): after warm-up ${f2(steady[0]?.rssMiB ?? NaN)}, at the end ${f2(steady[steady.length - 1]?.rssMiB ?? NaN)},`,
      `min ${f2(rssMin)}, max ${f2(rssMax)}; mean of the first tenth ${f2(rssHead)} vs the last tenth ${f2(rssTail)} (${growth >= 0 ? '+' : ''}${f2(growth * 100)} %);`,
      `least-squares slope ${rssSlope >= 0 ? '+' : ''}${f2(rssSlope)} MiB/min. Per minute of load, lowest-highest RSS (MiB): ${perMinute}.`,
      `V8 heap (first tenth → last tenth, MiB): used ${f2(heapHead)} → ${f2(heapTail)},`,
      `total ${f2(mean(head.map((s) => s.heapTotalMiB)))} → ${f2(mean(tail.map((s) => s.heapTotalMiB)))}; external ${f2(mean(head.map((s) => s.externalMiB)))} → ${f2(mean(tail.map((s) => s.externalMiB)))};`,
      `RSS less the V8 heap total (code, native memory, stacks): ${f2(mean(head.map((s) => s.rssMiB - s.heapTotalMiB)))} → ${f2(mean(tail.map((s) => s.rssMiB - s.heapTotalMiB)))}.`,
      `Live heap after each full GC (\`--trace-gc\` Mark-Compact lines; ${gcs.length} after warm-up): ${gcs.length > 0 ? `first ${f2(gcs[0]?.afterMiB ?? NaN)}, last ${f2(gcs[gcs.length - 1]?.afterMiB ?? NaN)}, min ${f2(Math.min(...gcs.map((g) => g.afterMiB)))}, max ${f2(Math.max(...gcs.map((g) => g.afterMiB)))} MiB (committed heap then ${f2(gcs[0]?.committedMiB ?? NaN)} → ${f2(gcs[gcs.length - 1]?.committedMiB ?? NaN)} MiB)` : 'none'}.`,
      `Open file descriptors: ${steady[0]?.fds ?? '?'} after warm-up, ${steady[steady.length - 1]?.fds ?? '?'} at the end, max ${Math.max(...steady.map((s) => s.fds))}.`,
      '',
      `Scrapes: ${scrapes.length}, p50 ${f2(percentile(scrapeMs, 50))} ms, p99 ${f2(percentile(scrapeMs, 99))} ms, max ${f2(Math.max(...scrapeMs))} ms (after warm-up: ${steadyMs.length},`,
      `p50 ${f2(percentile(steadyMs, 50))} ms, p99 ${f2(percentile(steadyMs, 99))} ms, max ${f2(Math.max(...steadyMs))} ms); ${failedScrapes} without a 200 answer${networkErrors.length > 0 ? ` (${networkErrors.slice(0, 3).join('; ')})` : ''};`,
      `${retries} retried once on a new connection after the kept-alive one was reset (the exporter closes idle connections after Node's default 5 s, the scrape interval here; Prometheus's Go client retries such a GET the same way);`,
      `${collectorFailures.length} with a collector not successful${
        collectorFailures.length > 0
          ? ` (${[...new Set(collectorFailures.flatMap((s) => s.failedCollectors))].join(', ')}, at ${collectorFailures
              .map((s) => `${f2(s.t)} s`)
              .slice(0, 5)
              .join(', ')}${collectorFailures.length > 5 ? ' …' : ''})`
          : ''
      }.`,
      `Exporter log lines during the load besides \`listening on\`: ${notable.length}${
        notable.length > 0
          ? ` (${notable
              .slice(0, 3)
              .map((l) => `\`${l.slice(0, 140)}\``)
              .join('; ')}${notable.length > 3 ? ' …' : ''})`
          : ''
      };`,
      `exit code ${exporterCode}. CRM exit code ${crmCode}${/dropping lines/.test(crmStderr) ? ', **its access log dropped lines**' : ''}.`,
      '',
      `Targets: lines lost 0 and none duplicated: **${exact ? 'met' : 'NOT met'}**; RSS peak of the second half <= the first half's + ${RSS_GROWTH_LIMIT * 100} %: **${rssOk ? 'met' : 'NOT met'}** (${f2(peakFirst)} → ${f2(peakSecond)} MiB, ${peakGrowth >= 0 ? '+' : ''}${f2(peakGrowth * 100)} %);`,
      `live heap after full GCs, highest of the second half <= the first half's + ${RSS_GROWTH_LIMIT * 100} %: **${liveOk ? 'met' : 'NOT met'}**${gcs.length >= 2 ? ` (${f2(liveFirst)} → ${f2(liveSecond)} MiB, ${liveGrowth >= 0 ? '+' : ''}${f2(liveGrowth * 100)} %)` : ' (fewer than 2 full GCs after warm-up)'}.`,
    ].join('\n');
    process.stdout.write(`\n${md}\n`);
    if (process.argv.includes('--write-results')) writeResultsSection('bench:soak', md);
    process.exitCode = exact && rssOk && liveOk ? 0 : 1;
  } finally {
    await loadgen?.stop();
    await exporter?.stop();
    await crm?.stop();
    await admin
      .query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      .catch((err: Error) => say(`drop ${dbName}: ${err.message}`));
    await admin.end();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
