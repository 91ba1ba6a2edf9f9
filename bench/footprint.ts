/**
 * bench:footprint (issue 13, item 1): the resident memory of the RUNNING exporter, `crm-exporter --config FILE` from
 * bin/ (the process users run, dist/ inside), next to its peers measured in the same run on the same inputs.
 *
 *   npm run bench:footprint [-- --lines 1000000] [--scrapes 30] [--steady-minutes 6] [--rate 200] [--write-results]
 *   (--early-minute 1 --steady-minutes 2 --lines 100000 for a smoke run)
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_REDIS_URL=redis://127.0.0.1:6379
 *
 * RSS is read from /proc/PID/status of each child: VmRSS (now), and for the peak the higher of VmHWM and the
 * highest VmRSS sampled every 100 ms (see memory()).
 *
 * (a) logs-only  the exporter with one JSON log source (start_at beginning) on an empty file, and mtail (Debian
 *                package) on the same file. Idle: VmRSS 10 s after start, one scrape served. Then `--lines` lines are
 *                appended at once (bench/gen-lines.ts, the CRM's JSON access log) and both catch up; peak = VmHWM
 *                once each has counted every line. Then a scrape, a GC-friendly pause and VmRSS again ("after").
 * (b) full       the exporter with that log, PostgreSQL (BENCH_PG_URL), Redis (BENCH_REDIS_URL) and a probe of a
 *                small HTTP server in this process, scraped `--scrapes` times, one per second, while a writer appends
 *                `--rate` lines/s to the log; prometheus-postgres-exporter and prometheus-redis-exporter (Debian
 *                packages) on the same servers, scraped alongside. Peak = VmHWM at the end.
 * (c) steady     the same full exporter and peers under the same load, scraped every 5 s for `--steady-minutes`:
 *                RSS "at 5 minutes" is the median of the VmRSS samples of minute 4-5, "at the end" the median of the
 *                last minute (V8's heap is a saw-tooth between major GCs: a single sample would judge one tooth).
 *                Goal: within 5 % (the 1-hour figure comes from one long run: --steady-minutes 60).
 * A bare `node -e 'setInterval(()=>{},1000)'` is the floor every Node.js program starts from.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLines } from './gen-lines.js';
import { freePort } from '../test/helpers/net.js';
import { writeResultsSection } from './results-file.js';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const GOALS = { idleMiB: 55, catchUpPeakMiB: 60, fullPeakMiB: 80, steadyDrift: 0.05 };
const STEADY_SCRAPE_S = 5;
const MiB = 1024 * 1024;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const say = (s: string): void => void process.stderr.write(`bench:footprint: ${new Date().toISOString()} ${s}\n`);

interface Options {
  lines: number;
  scrapes: number;
  steadyMinutes: number;
  /** The early reference point of (c), in minutes (5 by the issue; smaller only for a smoke run). */
  earlyMinute: number;
  rate: number;
  writeResults: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} takes a non-negative number`);
    return n;
  };
  const o = {
    lines: value('--lines', 1_000_000),
    scrapes: value('--scrapes', 30),
    steadyMinutes: value('--steady-minutes', 6),
    earlyMinute: value('--early-minute', 5),
    rate: value('--rate', 200),
    writeResults: argv.includes('--write-results'),
  };
  if (o.earlyMinute < 1) throw new Error('--early-minute: at least 1');
  if (o.steadyMinutes > 0 && o.steadyMinutes < o.earlyMinute + 1)
    throw new Error(`--steady-minutes: 0 (skip) or at least ${o.earlyMinute + 1}`);
  return o;
}

// ------------------------------------------------------------------ processes and /proc

interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    if (!stopping)
      say(`${name} exited early (${String(code ?? signal)}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  });
  let stopping = false;
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  const sampler = setInterval(() => {
    try {
      memory(pid);
    } catch {
      // exited between two samples
    }
  }, 100);
  child.once('exit', () => clearInterval(sampler));
  return {
    name,
    pid,
    child,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Highest VmRSS seen per process. VmHWM alone misses a peak that a process gave back with madvise() rather than
 * munmap() (the kernel records the high-water mark at unmap time; the Go runtime and V8 both madvise), so every
 * process is also sampled every 100 ms and the peak reported is the higher of the two.
 */
const sampledPeak = new Map<number, number>();

/** VmRSS and the peak (VmHWM or the highest sampled VmRSS) of a process, in bytes. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const rss = kb('VmRSS');
  const peak = Math.max(sampledPeak.get(pid) ?? 0, rss);
  sampledPeak.set(pid, peak);
  return { rss, hwm: Math.max(kb('VmHWM'), peak) };
}

function binary(name: string): string | undefined {
  const out = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  return out === '' ? undefined : out;
}

function versionOf(command: string, pattern: RegExp): string {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return pattern.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

async function waitForUrl(url: string, proc: Proc, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited before serving ${url}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${proc.name}: ${url} did not answer within ${timeoutMs} ms`);
}

async function scrape(url: string, timeoutS = 10): Promise<string> {
  const response = await fetch(url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutS) } });
  return response.text();
}

/** Sum of every sample of one family in an exposition (counters by label). */
function sumFamily(text: string, family: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${family}{`) || line.startsWith(`${family} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

// ------------------------------------------------------------------ the programs

interface Target extends Proc {
  metricsUrl: string;
}

async function startExporter(name: string, dir: string, config: object): Promise<Target> {
  const port = await freePort();
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ listen: `127.0.0.1:${port}`, ...config }));
  // The bin itself, through its #! line, as `crm-exporter` runs it (npm's bin link, the Docker image).
  const proc = start(name, join(repoRoot, 'bin/crm-exporter.js'), ['--config', file]);
  await waitForUrl(`http://127.0.0.1:${port}/healthz`, proc);
  return { ...proc, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

const MTAIL_PROGRAM = `
counter crm_log_lines_total
counter crm_http_requests_total by status
/$/ {
  crm_log_lines_total++
}
/"status":(?P<status>\\d{3})/ {
  crm_http_requests_total[$status]++
}
`;

async function startMtail(dir: string, log: string): Promise<Target> {
  const progs = join(dir, 'mtail-progs');
  spawnSync('mkdir', ['-p', progs]);
  writeFileSync(join(progs, 'lines.mtail'), MTAIL_PROGRAM);
  const port = await freePort();
  const proc = start('mtail', 'mtail', [
    '--progs',
    progs,
    '--logs',
    log,
    '--address',
    '127.0.0.1',
    '--port',
    String(port),
    '--logtostderr',
  ]);
  await waitForUrl(`http://127.0.0.1:${port}/metrics`, proc);
  return { ...proc, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

async function startPeer(name: string, command: string, args: (port: number) => string[], env = {}): Promise<Target> {
  const port = await freePort();
  const proc = start(name, command, args(port), env);
  await waitForUrl(`http://127.0.0.1:${port}/`, proc);
  return { ...proc, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

function postgresDsn(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('sslmode')) u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

async function startPeers(): Promise<{ peers: Target[]; names: string[] }> {
  const peers: Target[] = [];
  const names: string[] = [];
  const pgExporter = binary('prometheus-postgres-exporter');
  if (pgExporter) {
    const v = versionOf(pgExporter, /version (\S+)/);
    names.push(`prometheus-postgres-exporter ${v}`);
    peers.push(
      await startPeer(`postgres_exporter ${v}`, pgExporter, (port) => [`--web.listen-address=127.0.0.1:${port}`], {
        DATA_SOURCE_NAME: postgresDsn(PG_URL),
      }),
    );
  } else say('prometheus-postgres-exporter not installed: no PostgreSQL peer');
  const redisExporter = binary('prometheus-redis-exporter');
  if (redisExporter) {
    const v = versionOf(redisExporter, /Exporter (\S+)/);
    names.push(`prometheus-redis-exporter ${v}`);
    peers.push(
      await startPeer(`redis_exporter ${v}`, redisExporter, (port) => [
        `--redis.addr=${REDIS_URL}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ]),
    );
  } else say('prometheus-redis-exporter not installed: no Redis peer');
  return { peers, names };
}

function bareNode(): Proc {
  return start('node (bare)', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
}

/** A tiny HTTP endpoint for the probe: 200 with a short body, like a /healthz. */
async function probeTarget(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz` };
}

/** Appends `rate` JSON lines per second to `log` in 100 ms batches until stopped. */
function trickle(log: string, rate: number): { stop(): number } {
  const lines = jsonLines(Number.MAX_SAFE_INTEGER, 99);
  let written = 0;
  const perTick = Math.max(1, Math.round(rate / 10));
  const timer = setInterval(() => {
    const chunk: string[] = [];
    for (let i = 0; i < perTick; i++) chunk.push(`${lines.next().value as string}\n`);
    appendFileSync(log, chunk.join(''));
    written += perTick;
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return written;
    },
  };
}

// ------------------------------------------------------------------ the phases

interface Row {
  name: string;
  rss: number;
  hwm: number;
  note?: string;
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
const goal = (value: number, limit: number): string =>
  `${value <= limit * MiB ? 'met' : '**not met**'} (${mib(value)} MiB, goal ≤ ${limit} MiB)`;

async function logsOnly(o: Options, dir: string): Promise<{ rows: Row[]; idle: number; peak: number }> {
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  say(`(a) generating ${o.lines} lines`);
  const data = Buffer.from(`${[...jsonLines(o.lines, 7)].join('\n')}\n`);
  const ours = await startExporter('crm-exporter logs-only', dir, {
    positions_file: join(dir, 'positions-a.json'),
    logs: [{ name: 'crm', path: log, format: 'json', start_at: 'beginning' }],
  });
  const mtail = binary('mtail') ? await startMtail(dir, log) : undefined;
  if (!mtail) say('mtail not installed: no log peer');
  const node = bareNode();
  try {
    await sleep(10_000);
    await scrape(ours.metricsUrl);
    await sleep(2_000);
    const idleHeap = sumFamily(await scrape(ours.metricsUrl), 'nodejs_heap_size_used_bytes');
    const idle = memory(ours.pid);
    const idleMtail = mtail ? memory(mtail.pid) : undefined;
    const idleNode = memory(node.pid);
    say(`(a) idle: crm-exporter ${mib(idle.rss)} MiB; appending ${mib(data.length)} MiB of log`);
    const t0 = Date.now();
    appendFileSync(log, data);
    const caughtUp = async (t: Target): Promise<number> => {
      while (sumFamily(await scrape(t.metricsUrl), 'crm_log_lines_total') < o.lines) await sleep(250);
      return (Date.now() - t0) / 1000;
    };
    const [ourSeconds, mtailSeconds] = await Promise.all([caughtUp(ours), mtail ? caughtUp(mtail) : undefined]);
    const peak = memory(ours.pid);
    const peakMtail = mtail ? memory(mtail.pid) : undefined;
    await sleep(5_000);
    await scrape(ours.metricsUrl);
    // Per-line allocations flat: the V8 heap in use after the catch-up against idle (both as the exporter reports them).
    const afterHeap = sumFamily(await scrape(ours.metricsUrl), 'nodejs_heap_size_used_bytes');
    const after = memory(ours.pid);
    const afterMtail = mtail ? memory(mtail.pid) : undefined;
    say(`(a) caught up in ${ourSeconds.toFixed(1)} s: peak ${mib(peak.hwm)} MiB, after ${mib(after.rss)} MiB`);
    const rows: Row[] = [
      {
        name: 'crm-exporter (logs only)',
        rss: idle.rss,
        hwm: peak.hwm,
        note:
          `after: ${mib(after.rss)} MiB; caught up in ${ourSeconds.toFixed(1)} s; ` +
          `V8 heap used idle ${mib(idleHeap)} MiB, after ${mib(afterHeap)} MiB`,
      },
    ];
    if (mtail && idleMtail && peakMtail && afterMtail)
      rows.push({
        name: `mtail ${versionOf('mtail', /version (\S+)/)}`,
        rss: idleMtail.rss,
        hwm: peakMtail.hwm,
        note: `after: ${mib(afterMtail.rss)} MiB; caught up in ${(mtailSeconds ?? 0).toFixed(1)} s`,
      });
    rows.push({ name: 'node (bare)', rss: idleNode.rss, hwm: memory(node.pid).hwm });
    return { rows, idle: idle.rss, peak: peak.hwm };
  } finally {
    await Promise.all([ours.stop(), mtail?.stop(), node.stop()]);
  }
}

function fullConfig(dir: string, log: string, probeUrl: string, suffix: string): object {
  return {
    positions_file: join(dir, `positions-${suffix}.json`),
    logs: [{ name: 'crm', path: log, format: 'json', start_at: 'end' }],
    // The URL's database only, as postgres_exporter samples its DSN's: `auto` would open a pool on every database of
    // the shared server, other sessions' test databases included, for the whole run.
    postgres: { url: PG_URL, databases: [new URL(PG_URL).pathname.slice(1) || 'postgres'] },
    redis: { url: REDIS_URL },
    probe: { url: probeUrl },
  };
}

async function full(o: Options, dir: string, probeUrl: string): Promise<{ rows: Row[]; peak: number }> {
  const log = join(dir, 'full.log');
  writeFileSync(log, '');
  const ours = await startExporter('crm-exporter full', dir, fullConfig(dir, log, probeUrl, 'b'));
  const { peers } = await startPeers();
  const node = bareNode();
  const writer = trickle(log, o.rate);
  const samples = new Map<number, number[]>();
  try {
    for (let i = 0; i < o.scrapes; i++) {
      const t = Date.now();
      await Promise.all([ours, ...peers].map((p) => scrape(p.metricsUrl)));
      for (const p of [ours, ...peers]) samples.set(p.pid, [...(samples.get(p.pid) ?? []), memory(p.pid).rss]);
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
    const written = writer.stop();
    const counted = sumFamily(await scrape(ours.metricsUrl), 'crm_log_lines_total');
    const row = (p: Proc, note?: string): Row => {
      const m = memory(p.pid);
      const s = samples.get(p.pid) ?? [m.rss];
      return { name: p.name, rss: median(s), hwm: m.hwm, ...(note ? { note } : {}) };
    };
    const rows = [
      row(ours, `${counted} of ${written} lines counted`),
      ...peers.map((p) => row(p)),
      { name: 'node (bare)', ...memory(node.pid) },
    ];
    say(`(b) full: peak ${mib(rows[0]?.hwm ?? 0)} MiB`);
    return { rows, peak: rows[0]?.hwm ?? 0 };
  } finally {
    writer.stop();
    await Promise.all([ours.stop(), ...peers.map((p) => p.stop()), node.stop()]);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

interface SteadyRow {
  name: string;
  at5: number;
  atEnd: number;
  hwm: number;
}

async function steady(o: Options, dir: string, probeUrl: string): Promise<{ rows: SteadyRow[]; drift: number }> {
  const log = join(dir, 'steady.log');
  writeFileSync(log, '');
  const ours = await startExporter('crm-exporter full', dir, fullConfig(dir, log, probeUrl, 'c'));
  const { peers } = await startPeers();
  const mtail = binary('mtail') ? await startMtail(dir, log) : undefined;
  const node = bareNode();
  const all: Target[] = [ours, ...peers, ...(mtail ? [mtail] : [])];
  const writer = trickle(log, o.rate);
  const samples = new Map<number, Array<{ t: number; rss: number }>>();
  const t0 = Date.now();
  const endMs = o.steadyMinutes * 60_000;
  try {
    let next = t0;
    while (Date.now() - t0 < endMs) {
      await Promise.all(all.map((p) => scrape(p.metricsUrl, STEADY_SCRAPE_S).catch(() => '')));
      const t = Date.now() - t0;
      for (const p of [...all, node])
        samples.set(p.pid, [...(samples.get(p.pid) ?? []), { t, rss: memory(p.pid).rss }]);
      if (Math.floor(t / 60_000) !== Math.floor((t - STEADY_SCRAPE_S * 1000) / 60_000))
        say(`(c) minute ${Math.floor(t / 60_000)}: crm-exporter ${mib(memory(ours.pid).rss)} MiB`);
      next += STEADY_SCRAPE_S * 1000;
      await sleep(Math.max(0, next - Date.now()));
    }
    writer.stop();
    const window = (pid: number, fromMs: number, toMs: number): number =>
      median((samples.get(pid) ?? []).filter((s) => s.t >= fromMs && s.t <= toMs).map((s) => s.rss));
    const rows = [...all, node].map((p) => ({
      name: p.name,
      at5: window(p.pid, (o.earlyMinute - 1) * 60_000, o.earlyMinute * 60_000),
      atEnd: window(p.pid, endMs - 60_000, endMs + STEADY_SCRAPE_S * 1000),
      hwm: memory(p.pid).hwm,
    }));
    const first = rows[0] as SteadyRow;
    return { rows, drift: first.atEnd / first.at5 - 1 };
  } finally {
    writer.stop();
    await Promise.all([...all.map((p) => p.stop()), node.stop()]);
  }
}

// ------------------------------------------------------------------ report

function table(rows: Row[]): string[] {
  return [
    '| process | RSS (idle / median while scraped) MiB | peak RSS MiB | × bare node (peak) | note |',
    '|---|---|---|---|---|',
    ...rows.map((r) => {
      const node = rows.find((x) => x.name === 'node (bare)');
      return `| ${r.name} | ${mib(r.rss)} | ${mib(r.hwm)} | ${node ? (r.hwm / node.hwm).toFixed(2) : '?'} | ${r.note ?? ''} |`;
    }),
  ];
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'crm-footprint-'));
  const probe = await probeTarget();
  const startedAt = new Date();
  try {
    const a = await logsOnly(o, dir);
    say('(b) full exporter and peers');
    const b = await full(o, dir, probe.url);
    let c: Awaited<ReturnType<typeof steady>> | undefined;
    if (o.steadyMinutes > 0) {
      say(`(c) steady load for ${o.steadyMinutes} minutes`);
      c = await steady(o, dir, probe.url);
    }
    const ours = a.rows[0] as Row;
    const mtail = a.rows.find((r) => r.name.startsWith('mtail'));
    const lines = [
      `Run ${startedAt.toISOString()}, Node.js ${process.version}, ${cpus().length} cores shared (load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at the end). \`npm run bench:footprint -- ${process.argv.slice(2).join(' ')}\`.`,
      'Each process is a child of the bench; RSS = /proc/PID/status VmRSS; peak = the higher of VmHWM and the highest VmRSS sampled every 100 ms since it started.',
      '',
      `### (a) Logs only: one JSON log, idle, then a catch-up of ${o.lines.toLocaleString('en')} lines appended at once`,
      '',
      `- Idle (10 s after start, one scrape served): ${goal(a.idle, GOALS.idleMiB)}.`,
      `- Peak through the catch-up: ${goal(a.peak, GOALS.catchUpPeakMiB)}.`,
      mtail
        ? `- Ratios: crm-exporter / mtail ${(ours.rss / mtail.rss).toFixed(2)}× idle, ${(ours.hwm / mtail.hwm).toFixed(2)}× peak.`
        : '- mtail not installed: no ratio.',
      '',
      ...table(a.rows),
      '',
      `### (b) Full: the log, PostgreSQL, Redis and a probe, scraped ${o.scrapes}× at 1/s, ${o.rate} lines/s appended`,
      '',
      `- Peak: ${goal(b.peak, GOALS.fullPeakMiB)}.`,
      '- Peers on the same servers, scraped alongside (defaults).',
      '',
      ...table(b.rows),
    ];
    if (c) {
      const ok = Math.abs(c.drift) <= GOALS.steadyDrift;
      lines.push(
        '',
        `### (c) Steady: the full set for ${o.steadyMinutes} minutes, scraped every ${STEADY_SCRAPE_S} s, ${o.rate} lines/s`,
        '',
        `- crm-exporter RSS at the end vs at ${o.earlyMinute} minutes: ${(c.drift * 100).toFixed(1)} % (goal within ±${GOALS.steadyDrift * 100} %: ${ok ? 'met' : '**not met**'}). Each figure is the median VmRSS of the minute before it.`,
        '',
        `| process | RSS at ${o.earlyMinute} min MiB | RSS at the end MiB | change | peak RSS MiB |`,
        '|---|---|---|---|---|',
        ...c.rows.map(
          (r) =>
            `| ${r.name} | ${mib(r.at5)} | ${mib(r.atEnd)} | ${((r.atEnd / r.at5 - 1) * 100).toFixed(1)} % | ${mib(r.hwm)} |`,
        ),
      );
    }
    const markdown = lines.join('\n');
    process.stdout.write(`${markdown}\n`);
    if (o.writeResults) {
      const heading = o.steadyMinutes >= 60 ? 'bench:footprint, steady hour' : 'bench:footprint';
      say(`written to ${writeResultsSection(heading, markdown)}`);
    }
  } finally {
    probe.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:footprint: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
