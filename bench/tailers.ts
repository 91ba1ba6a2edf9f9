/**
 * Tailer comparison (docs/tailing.md): reads one generated file of ~150-byte lines from the beginning with
 *   raw       one reused Buffer, indexOf split, no parsing (the floor)
 *   tailer    our FileTailer with a counting sink
 *   tail-file the npm package (devDependency, kept as the baseline the design card named)
 * Each run is its own child process so peak RSS and CPU time belong to that reader alone.
 *
 *   npm run build && node dist/bench/tailers.js [--lines 1000000] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FileTailer, type LineSink } from '../src/exporter/sources/tailer.js';

const METHODS = ['raw', 'tailer', 'tail-file'] as const;
type Method = (typeof METHODS)[number];

interface RunResult {
  method: Method;
  lines: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  loopDelayP99Ms: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bad ${name}`);
  return v;
}

// ------------------------------------------------------------------ generation

const METHODS_HTTP = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const PATHS = ['/api/customers/', '/api/orders/', '/api/invoices/', '/api/contacts/', '/healthz?probe='];

async function generate(file: string, lines: number): Promise<number> {
  const fh = await open(file, 'w');
  let bytes = 0;
  try {
    let chunk = '';
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < lines; i++) {
      const line =
        `10.${rnd(256)}.${rnd(256)}.${rnd(256)} - - [27/Nov/2025:08:${String(rnd(60)).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')} +0000] ` +
        `"${METHODS_HTTP[rnd(METHODS_HTTP.length)]} ${PATHS[rnd(PATHS.length)]}${rnd(100000)} HTTP/1.1" ${rnd(10) === 0 ? 500 : 200} ${rnd(20000)} ` +
        `"-" "Mozilla/5.0 (X11; Linux x86_64) loadgen/1.0" ${(rnd(3000) / 1000).toFixed(3)} ${(rnd(2000) / 1000).toFixed(3)}\n`;
      chunk += line;
      if (chunk.length > 1 << 20) {
        bytes += Buffer.byteLength(chunk);
        await fh.write(chunk);
        chunk = '';
      }
    }
    bytes += Buffer.byteLength(chunk);
    await fh.write(chunk);
  } finally {
    await fh.close();
  }
  return bytes;
}

// ------------------------------------------------------------------ the readers (child side)

async function runRaw(file: string): Promise<number> {
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafe(256 * 1024);
  let fill = 0;
  let pos = 0;
  let count = 0;
  let bytes = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, fill, buf.length - fill, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const end = fill + bytesRead;
      const view = buf.subarray(0, end);
      let start = 0;
      for (let nl = view.indexOf(10, start); nl >= 0; nl = view.indexOf(10, start)) {
        count++;
        bytes += nl - start;
        start = nl + 1;
      }
      view.copyWithin(0, start, end);
      fill = end - start;
    }
  } finally {
    await fh.close();
  }
  if (bytes < 0) throw new Error('unreachable');
  return count;
}

async function runTailer(file: string, expected: number): Promise<number> {
  let count = 0;
  let bytes = 0;
  const sink: LineSink = {
    line(_buf, start, end) {
      count++;
      bytes += end - start;
    },
    oversized() {
      throw new Error('unexpected oversized line');
    },
  };
  const tailer = new FileTailer({
    path: file,
    startAt: 'beginning',
    maxLineBytes: 64 * 1024,
    pollIntervalMs: 250,
    sink,
  });
  await tailer.start();
  while (count < expected) await tailer.caughtUp();
  await tailer.close();
  if (bytes < 0) throw new Error('unreachable');
  return count;
}

interface TailFileInstance {
  on(event: 'line', cb: (line: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  start(): void;
  stop(): Promise<void>;
}
type TailFileCtor = new (file: string, opts: Record<string, unknown>) => TailFileInstance;

async function runTailFile(file: string, expected: number): Promise<number> {
  const Tail = createRequire(import.meta.url)('tail-file') as TailFileCtor;
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const t = new Tail(file, { startPos: 'start' });
    t.on('error', reject);
    t.on('line', () => {
      if (++count === expected) void t.stop().then(resolve, reject);
    });
    t.start();
  });
  return count;
}

async function child(method: Method, file: string, expected: number): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const count =
    method === 'raw'
      ? await runRaw(file)
      : method === 'tailer'
        ? await runTailer(file, expected)
        : await runTailFile(file, expected);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  if (count !== expected) throw new Error(`${method}: counted ${count} lines, expected ${expected}`);
  const result: RunResult = {
    method,
    lines: count,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    loopDelayP99Ms: h.percentile(99) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ------------------------------------------------------------------ parent

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) {
    await child(process.argv[ci + 1] as Method, process.argv[ci + 2] ?? '', Number(process.argv[ci + 3]));
    return;
  }
  const lines = arg('--lines', 1_000_000);
  const runs = arg('--runs', 3);
  const dir = await mkdtemp(join(tmpdir(), 'bench-tailers-'));
  try {
    const file = join(dir, 'access.log');
    const bytes = await generate(file, lines);
    console.log(
      `file: ${lines} lines, ${(bytes / 1e6).toFixed(1)} MB (${(bytes / lines).toFixed(0)} bytes/line); median of ${runs} runs, each in its own process`,
    );
    console.log('');
    console.log('| reader    | lines/s   | CPU-s per 1M lines | peak RSS MiB | event-loop delay p99 ms |');
    console.log('|-----------|-----------|--------------------|--------------|-------------------------|');
    const self = fileURLToPath(import.meta.url);
    for (const method of METHODS) {
      const results: RunResult[] = [];
      for (let r = 0; r < runs; r++) {
        const p = spawnSync(process.execPath, [self, '--child', method, file, String(lines)], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        });
        if (p.status !== 0) throw new Error(`${method} failed: ${p.stderr}`);
        results.push(JSON.parse(p.stdout.trim().split('\n').pop() ?? '') as RunResult);
      }
      const rate = median(results.map((r) => r.lines / r.seconds));
      const cpuPerM = median(results.map((r) => (r.cpuSeconds / r.lines) * 1e6));
      const rss = Math.max(...results.map((r) => r.maxRssMiB));
      const p99 = median(results.map((r) => r.loopDelayP99Ms));
      console.log(
        `| ${method.padEnd(9)} | ${Math.round(rate).toLocaleString('en-US').padStart(9)} | ${cpuPerM.toFixed(2).padStart(18)} | ${rss.toFixed(0).padStart(12)} | ${p99.toFixed(1).padStart(23)} |`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
