/**
 * bench:ingest — file to metrics, for the nginx and the JSON access-log formats (issue 2, "Done when").
 *
 *   npm run bench:ingest -- [--lines 1000000] [--formats nginx,json] [--no-mtail] [--no-tail-file] [--keep]
 *                           [--write-results]      (rewrite the "## bench:ingest" section of bench/RESULTS.md)
 *
 * Per format, each reader runs in its own child process (so peak RSS and CPU belong to it alone):
 *   ours       createLogPipeline (FileTailer -> parser -> routes -> typed-array aggregator) with start_at beginning
 *              on the complete file (the bytes have landed, as for every other reader); the clock runs from
 *              pipeline.start() to the moment the pipeline has counted the last line (process start-up excluded).
 *              Also: event-loop delay p99 while ingesting (perf_hooks.monitorEventLoopDelay, 1 ms resolution), peak
 *              RSS (VmHWM, the whole process), and a scrape at the end that must show exactly N requests.
 *   ours-live  the same pipeline on an empty file; the parent appends the lines (4 MiB writes) while it tails, and
 *              the clock runs from the first byte written. Bounded by the writer's pace where the disk is slow, so
 *              the row also shows how long the appends took.
 *   raw        one reused 256 KiB buffer, read the same file, count newlines with Buffer.indexOf (the floor).
 *   tail-file  the npm package on the same file from its start, counting 'line' events.
 *   mtail      `mtail --one_shot` with an equivalent program (same counters, histogram and route templating).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import type { LogSourceConfig } from '../src/exporter/config/schema.js';
import { DEFAULT_JSON_FIELDS } from '../src/exporter/parsers/json-line.js';
import { createLogPipeline } from '../src/exporter/logs/pipeline.js';
import { jsonLines, NGINX_BENCH_FORMAT, nginxLines, writeLines } from './gen-lines.js';
import { writeResultsSection } from './results-file.js';

type Format = 'nginx' | 'json';
type Reader = 'ours' | 'ours-live' | 'raw' | 'tail-file' | 'mtail';

interface ReaderResult {
  reader: Reader;
  format: Format;
  lines: number;
  seconds: number;
  linesPerSecond: number;
  cpuSeconds?: number;
  peakRssMiB?: number;
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  scrapeMs?: number;
  requestsCounted?: number;
  /** ours-live: seconds the parent's appends took (the writer's own pace bounds the reader's). */
  writerSeconds?: number;
  error?: string;
}

const TARGETS = { linesPerSecond: 1_000_000, vsMtail: 10, peakRssMiB: 80, loopDelayP99Ms: 10 };
const MiB = 1024 * 1024;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const hasFlag = (name: string): boolean => process.argv.includes(name);

/** Peak resident set size of this process so far (VmHWM), MiB. */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / MiB;
}

const send = (msg: unknown): void => {
  process.send?.(msg);
};

// ------------------------------------------------------------------ children

/**
 * Our pipeline on `target`. `ours`: the file is complete before the clock starts (like every other reader here), the
 * clock runs from `pipeline.start()` to the last line counted. `ours-live`: `target` is empty; the parent appends
 * the data after "ready" and tells us its start time, so the clock includes the writer's pace.
 */
async function childOurs(reader: 'ours' | 'ours-live', format: Format, target: string, lines: number): Promise<void> {
  // The resolved config the loader would produce (built literally: the child does not load the config schema).
  const source: LogSourceConfig = {
    name: 'bench',
    path: target,
    format,
    log_format: format === 'nginx' ? NGINX_BENCH_FORMAT : undefined,
    pattern: undefined,
    fields: format === 'json' ? { ...DEFAULT_JSON_FIELDS } : undefined,
    routes: [],
    max_routes: 200,
    max_route_length: 128,
    start_at: 'beginning',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    max_line_bytes: 64 * 1024,
    poll_interval: 1000,
  };
  const registry = new Registry();
  const pipeline = createLogPipeline(source, registry, { log: (l) => process.stderr.write(`${l}\n`) });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const measure = (t0: bigint): void => {
    const cpu0 = process.cpuUsage();
    loop.enable();
    const timer = setInterval(() => {
      if (pipeline.status().lines < lines) return;
      const t1 = process.hrtime.bigint();
      loop.disable();
      clearInterval(timer);
      const cpu = process.cpuUsage(cpu0);
      void (async () => {
        const s0 = performance.now();
        const text = await registry.metrics();
        const scrapeMs = performance.now() - s0;
        let requests = 0;
        for (const m of text.matchAll(/^crm_http_requests_total\{[^}]*\} (\S+)$/gm)) requests += Number(m[1]);
        const seconds = Number(t1 - t0) / 1e9;
        const st = pipeline.status();
        const result: ReaderResult = {
          reader,
          format,
          lines: st.lines,
          seconds,
          linesPerSecond: st.lines / seconds,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          peakRssMiB: peakRssMiB(),
          loopDelayP99Ms: loop.percentile(99) / 1e6,
          loopDelayMaxMs: loop.max / 1e6,
          scrapeMs,
          requestsCounted: requests,
          ...(st.errors > 0 ? { error: `${st.errors} parse errors` } : {}),
        };
        await pipeline.close();
        send(result);
        process.exit(0);
      })();
    }, 1);
  };
  if (reader === 'ours') {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = process.hrtime.bigint();
    measure(t0);
    await pipeline.start();
    return;
  }
  await pipeline.start();
  (globalThis as { gc?: () => void }).gc?.();
  process.on('message', (msg: { type: string; t0: string }) => {
    if (msg.type === 'go') measure(BigInt(msg.t0));
  });
  send({ type: 'ready' });
}

async function childRaw(format: Format, file: string): Promise<ReaderResult> {
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafe(256 * 1024);
  let count = 0;
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let i = 0;
    for (;;) {
      const nl = buf.indexOf(10, i);
      if (nl < 0 || nl >= bytesRead) break;
      count++;
      i = nl + 1;
    }
  }
  await fh.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    reader: 'raw',
    format,
    lines: count,
    seconds,
    linesPerSecond: count / seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: peakRssMiB(),
  };
}

async function childTailFile(format: Format, file: string, lines: number): Promise<ReaderResult> {
  const require = createRequire(import.meta.url);
  type TailCtor = new (
    file: string,
    opts: Record<string, unknown>,
    cb?: (line: string) => void,
  ) => { start(): void; stop(): Promise<void>; on(ev: string, cb: (arg: unknown) => void): void };
  const Tail = require('tail-file') as TailCtor;
  return new Promise((resolve) => {
    let count = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const tail = new Tail(file, { startPos: 'start', force: true }, () => {
      count++;
      if (count === lines) {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = process.cpuUsage(cpu0);
        resolve({
          reader: 'tail-file',
          format,
          lines: count,
          seconds,
          linesPerSecond: count / seconds,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          peakRssMiB: peakRssMiB(),
        });
        void tail.stop();
      }
    });
    tail.on('error', (err) =>
      resolve({ reader: 'tail-file', format, lines: count, seconds: 0, linesPerSecond: 0, error: String(err) }),
    );
    tail.start();
  });
}

// ------------------------------------------------------------------ mtail

const BUCKETS = '0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10';

/** The same families as ours: lines, requests, duration histogram, bytes, phases, cache/lock outcomes, parse errors. */
const MTAIL_PROGRAMS: Record<Format, string> = {
  nginx: `
counter crm_log_lines_total
counter crm_log_parse_errors_total by reason
counter crm_http_requests_total by method, route, status
histogram crm_http_request_duration_seconds by method, route buckets ${BUCKETS}
counter crm_http_response_size_bytes_total by method, route
counter crm_http_request_phase_seconds_total by route, phase

# Route template: numeric, UUID and long-hex path segments become :id (the query string is not captured).
# mtail has no variables, and two regex literals in one block clash ("Redeclaration of capture group 0"), so
# each use of subst() sits in its own always-true block.
/$/ {
  crm_log_lines_total++
}
/^\\S+ - \\S+ \\[[^\\]]+\\] "(?P<method>[A-Z]+) (?P<path>[^ ?"]*)[^ "]* [^"]*" (?P<status>\\d{3}) (?P<bytes>\\d+) "[^"]*" "[^"]*" (?P<rt>\\d+\\.\\d+) (?P<urt>-|\\d+\\.\\d+)(, [0-9.]+)*$/ {
  $bytes >= 0 {
    crm_http_requests_total[$method][subst(/\\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[0-9]+)\\b/, "/:id", $path)][$status]++
  }
  $bytes >= 0 {
    crm_http_request_duration_seconds[$method][subst(/\\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[0-9]+)\\b/, "/:id", $path)] = float($rt)
  }
  $bytes >= 0 {
    crm_http_response_size_bytes_total[$method][subst(/\\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[0-9]+)\\b/, "/:id", $path)] += $bytes
  }
  $urt != "-" {
    crm_http_request_phase_seconds_total[subst(/\\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[0-9]+)\\b/, "/:id", $path)]["upstream"] += float($urt)
  }
  $urt != "-" {
    crm_http_request_phase_seconds_total[subst(/\\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[0-9]+)\\b/, "/:id", $path)]["network"] += float($rt) - float($urt)
  }
} else {
  crm_log_parse_errors_total["format_mismatch"]++
}
`,
  json: `
counter crm_log_lines_total
counter crm_log_parse_errors_total by reason
counter crm_http_requests_total by method, route, status
histogram crm_http_request_duration_seconds by method, route buckets ${BUCKETS}
counter crm_http_response_size_bytes_total by method, route
counter crm_http_request_phase_seconds_total by route, phase
counter crm_cache_lookups_total by route, result
counter crm_lock_acquisitions_total by route, result
counter crm_lock_wait_seconds_total by route

/$/ {
  crm_log_lines_total++
}
/^\\{"time":"[^"]*","method":"(?P<method>[A-Z]+)","path":"[^"]*","route":"(?P<route>[^"]*)","status":(?P<status>\\d{3}),"duration_ms":(?P<ms>[0-9.]+),"bytes":(?P<bytes>\\d+),"db_ms":(?P<db>[0-9.]+),"cache_ms":(?P<cms>[0-9.]+),"cache":"(?P<cache>[a-z]+)","request_id":"[^"]*"(,"lock":"(?P<lock>[a-z]+)","lock_wait_ms":(?P<lw>[0-9.]+))?\\}$/ {
  crm_http_requests_total[$method][$route][$status]++
  crm_http_request_duration_seconds[$method][$route] = float($ms) / 1000.0
  crm_http_response_size_bytes_total[$method][$route] += $bytes
  crm_http_request_phase_seconds_total[$route]["db"] += float($db) / 1000.0
  crm_http_request_phase_seconds_total[$route]["cache"] += float($cms) / 1000.0
  crm_http_request_phase_seconds_total[$route]["app"] += (float($ms) - float($db) - float($cms)) / 1000.0
  crm_cache_lookups_total[$route][$cache]++
  $lock != "" {
    crm_lock_acquisitions_total[$route][$lock]++
    crm_lock_wait_seconds_total[$route] += float($lw) / 1000.0
  }
} else {
  crm_log_parse_errors_total["invalid_json"]++
}
`,
};

function runMtail(format: Format, file: string, dir: string, lines: number): ReaderResult {
  const progDir = join(dir, `mtail-${format}`);
  rmSync(progDir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', progDir]);
  writeFileSync(join(progDir, `${format}.mtail`), MTAIL_PROGRAMS[format]);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-v',
      'mtail',
      '--one_shot',
      '--one_shot_format',
      'prometheus',
      '--progs',
      progDir,
      '--logs',
      file,
      '--logtostderr',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 256 * MiB,
    },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = r.stdout ?? '';
  const counted = [...out.matchAll(/^crm_log_lines_total(?:\{[^}]*\})? (\S+)$/gm)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
  const requests = [...out.matchAll(/^crm_http_requests_total\{[^}]*\} (\S+)$/gm)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const result: ReaderResult = {
    reader: 'mtail',
    format,
    lines: counted,
    seconds,
    linesPerSecond: counted / seconds,
    peakRssMiB: rss ? Number(rss[1]) / 1024 : undefined,
    cpuSeconds: user && sys ? Number(user[1]) + Number(sys[1]) : undefined,
    requestsCounted: requests,
  };
  if (r.status !== 0 || counted !== lines)
    result.error = `mtail exit ${String(r.status)}, counted ${counted} of ${lines} lines: ${(r.stderr ?? '').split('\n').slice(-5).join(' ')}`;
  return result;
}

// ------------------------------------------------------------------ parent

const self = fileURLToPath(import.meta.url);

function child(args: string[]): ChildProcess {
  // BENCH_NODE_ARGS: extra node flags for the children (e.g. --cpu-prof) when investigating a result
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, ['--expose-gc', ...extra, self, '--child', ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function waitResult(cp: ChildProcess): Promise<ReaderResult> {
  return new Promise((resolve, reject) => {
    cp.on('message', (msg: ReaderResult | { type: string }) => {
      if ('reader' in msg) resolve(msg);
    });
    cp.on('exit', (code) => reject(new Error(`child exited with ${String(code)} before reporting`)));
  });
}

/** Appends `data` to `target` in 4 MiB writes (the "log writer"). */
function appendFile(data: string, target: string): void {
  const src = openSync(data, 'r');
  const dst = openSync(target, 'a');
  const buf = Buffer.allocUnsafe(4 * MiB);
  let pos = 0;
  for (;;) {
    const n = readSync(src, buf, 0, buf.length, pos);
    if (n === 0) break;
    writeSync(dst, buf, 0, n);
    pos += n;
  }
  closeSync(src);
  closeSync(dst);
}

async function runOursLive(format: Format, data: string, dir: string, lines: number): Promise<ReaderResult> {
  const target = join(dir, `ours-${format}.log`);
  writeFileSync(target, '');
  const cp = child(['ours-live', format, target, String(lines)]);
  const result = waitResult(cp);
  await new Promise<void>((resolve, reject) => {
    cp.on('message', (msg: { type?: string }) => {
      if (msg.type === 'ready') resolve();
    });
    cp.on('exit', (code) => reject(new Error(`ours exited with ${String(code)}`)));
  });
  const t0 = process.hrtime.bigint();
  cp.send({ type: 'go', t0: t0.toString() });
  appendFile(data, target);
  const writerSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const r = await result;
  rmSync(target, { force: true });
  return { ...r, writerSeconds };
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function markdown(
  results: ReaderResult[],
  lines: number,
  command: string,
  genSeconds: Record<string, number>,
  sizes: Record<string, number>,
): string {
  const out: string[] = [];
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  out.push(`Command: \`${command}\``);
  out.push('');
  out.push(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · load average at the end ${load} · ${fmt(lines)} lines per format`,
  );
  out.push('');
  out.push(
    'How: each reader is its own child process. **ours** = `createLogPipeline` (real FileTailer, start_at beginning, the full metric set) ' +
      'on the complete file, like the other readers: the clock runs from `pipeline.start()` to the moment the pipeline has counted the ' +
      'last line (process start-up excluded); event-loop delay is `monitorEventLoopDelay` (1 ms resolution) over that window; peak RSS ' +
      "is the child's VmHWM (whole life, start-up included); the scrape at the end must show exactly N requests. **ours-live** = the " +
      'same pipeline tailing an empty file while the parent appends the lines in 4 MiB writes, clock from the first write: it cannot ' +
      'be faster than the writer, whose own time is in its notes. ' +
      '**raw** = one reused 256 KiB buffer over the same bytes, newline count with `Buffer.indexOf` (the floor). **tail-file** = the npm ' +
      'package from the start of the same file, counting `line` events. **mtail** = `mtail --one_shot` with an equivalent program ' +
      '(same families; nginx route templating via `subst()`, once per metric because mtail has no variables). ' +
      'The 2 cores are shared with other work: compare readers within one run, and expect run-to-run swings of ±30% in absolute numbers.',
  );
  out.push('');
  for (const format of ['nginx', 'json'] as const) {
    const rows = results.filter((r) => r.format === format);
    if (rows.length === 0) continue;
    const ours = rows.find((r) => r.reader === 'ours');
    const raw = rows.find((r) => r.reader === 'raw');
    const mtail = rows.find((r) => r.reader === 'mtail');
    const live = rows.find((r) => r.reader === 'ours-live');
    out.push(`### ${format} (${fmt((sizes[format] ?? 0) / MiB, 1)} MiB, generated in ${fmt(genSeconds[format], 1)} s)`);
    out.push('');
    out.push('| reader | lines/s | seconds | CPU s | peak RSS MiB | loop delay p99 / max ms | notes |');
    out.push('|---|---:|---:|---:|---:|---:|---|');
    for (const r of rows) {
      const notes: string[] = [];
      if (r.reader === 'ours' || r.reader === 'ours-live')
        notes.push(`scrape ${fmt(r.scrapeMs, 1)} ms, requests counted ${fmt(r.requestsCounted)}`);
      if (r.writerSeconds !== undefined) notes.push(`the writer's appends took ${fmt(r.writerSeconds, 3)} s`);
      if (r.reader === 'mtail' && r.requestsCounted !== undefined)
        notes.push(`requests counted ${fmt(r.requestsCounted)}`);
      if (r.error) notes.push(`**${r.error}**`);
      out.push(
        `| ${r.reader} | ${fmt(r.linesPerSecond)} | ${fmt(r.seconds, 3)} | ${fmt(r.cpuSeconds, 2)} | ${fmt(r.peakRssMiB, 1)} | ${r.loopDelayP99Ms === undefined ? '–' : `${fmt(r.loopDelayP99Ms, 2)} / ${fmt(r.loopDelayMaxMs, 2)}`} | ${notes.join('; ')} |`,
      );
    }
    out.push('');
    if (ours) {
      const checks = [
        `lines/s ≥ ${fmt(TARGETS.linesPerSecond)}: ${ours.linesPerSecond >= TARGETS.linesPerSecond ? 'yes' : '**no**'} (${fmt(ours.linesPerSecond)})`,
        mtail && mtail.linesPerSecond > 0
          ? `≥ ${TARGETS.vsMtail}× mtail: ${ours.linesPerSecond >= TARGETS.vsMtail * mtail.linesPerSecond ? 'yes' : '**no**'} (${fmt(ours.linesPerSecond / mtail.linesPerSecond, 1)}×)`
          : 'mtail: not measured',
        `peak RSS ≤ ${TARGETS.peakRssMiB} MiB: ${(ours.peakRssMiB ?? Infinity) <= TARGETS.peakRssMiB ? 'yes' : '**no**'} (${fmt(ours.peakRssMiB, 1)})`,
        `loop delay p99 ≤ ${TARGETS.loopDelayP99Ms} ms: ${(ours.loopDelayP99Ms ?? Infinity) <= TARGETS.loopDelayP99Ms ? 'yes' : '**no**'} (${fmt(ours.loopDelayP99Ms, 2)})`,
        raw
          ? `ratio to raw baseline: ${fmt(ours.linesPerSecond / raw.linesPerSecond, 3)} (raw ${fmt(raw.linesPerSecond)} lines/s)`
          : 'raw: not measured',
        `exact: ${ours.requestsCounted === lines && ours.lines === lines ? 'yes' : '**no**'} (lines ${fmt(ours.lines)}, requests ${fmt(ours.requestsCounted)})`,
        live
          ? `live append: ${fmt(live.linesPerSecond)} lines/s, exact ${live.requestsCounted === lines && live.lines === lines ? 'yes' : '**no**'}, ` +
            `loop delay p99 ${fmt(live.loopDelayP99Ms, 2)} ms; the writer alone needed ${fmt(live.writerSeconds, 3)} s of the ${fmt(live.seconds, 3)} s`
          : 'live append: not measured',
      ];
      for (const c of checks) out.push(`- ${c}`);
      out.push('');
    }
  }
  return out.join('\n');
}

async function parent(): Promise<void> {
  const lines = Number(argValue('--lines') ?? 1_000_000);
  const formats = (argValue('--formats') ?? 'nginx,json').split(',') as Format[];
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const command = `npm run bench:ingest${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const results: ReaderResult[] = [];
  const genSeconds: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  const mtailInstalled = !hasFlag('--no-mtail') && spawnSync('sh', ['-c', 'command -v mtail']).status === 0;
  try {
    for (const format of formats) {
      const data = join(dir, `data-${format}.log`);
      const g0 = performance.now();
      sizes[format] = writeLines(data, format === 'nginx' ? nginxLines(lines) : jsonLines(lines));
      genSeconds[format] = (performance.now() - g0) / 1000;
      process.stderr.write(`${format}: generated ${lines} lines (${(sizes[format] / MiB).toFixed(1)} MiB)\n`);

      const step = async (name: string, run: () => Promise<ReaderResult> | ReaderResult): Promise<void> => {
        process.stderr.write(`${format}: ${name} ... `);
        try {
          const r = await run();
          results.push(r);
          process.stderr.write(
            `${Math.round(r.linesPerSecond).toLocaleString('en-US')} lines/s${r.error ? ` (${r.error})` : ''}\n`,
          );
        } catch (err) {
          process.stderr.write(`failed: ${String(err)}\n`);
          results.push({ reader: name as Reader, format, lines: 0, seconds: 0, linesPerSecond: 0, error: String(err) });
        }
      };
      await step('ours', () => waitResult(child(['ours', format, data, String(lines)])));
      await step('ours-live', () => runOursLive(format, data, dir, lines));
      await step('raw', () => waitResult(child(['raw', format, data, String(lines)])));
      if (!hasFlag('--no-tail-file'))
        await step('tail-file', () => waitResult(child(['tail-file', format, data, String(lines)])));
      if (mtailInstalled) await step('mtail', () => runMtail(format, data, dir, lines));
      else process.stderr.write(`${format}: mtail not installed or --no-mtail: skipped\n`);
    }
  } finally {
    if (!hasFlag('--keep')) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
  const md = markdown(results, lines, command, genSeconds, sizes);
  process.stdout.write(`\n${md}\n`);
  process.stdout.write(`\n${JSON.stringify(results)}\n`);
  if (hasFlag('--write-results')) process.stderr.write(`wrote ${writeResultsSection('bench:ingest', md)}\n`);
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child');
  if (i < 0) return parent();
  const [reader, format, file, n] = process.argv.slice(i + 1) as [Reader, Format, string, string];
  const lines = Number(n);
  if (reader === 'ours' || reader === 'ours-live') return childOurs(reader, format, file, lines);
  const r = reader === 'raw' ? await childRaw(format, file) : await childTailFile(format, file, lines);
  send(r);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
