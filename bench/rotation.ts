/**
 * bench:rotation — lines counted while the log is rotated under load: crm-exporter against mtail (issue 2, "Why").
 *
 *   npm run bench:rotation -- [--seconds 8] [--rate 20000] [--rotate-every 1000] [--reopen-after 200] [--write-results]
 *
 * Both readers tail the same nginx access log from the moment it is created, as long-running processes with their
 * default settings: our exporter through its CLI (`crm-exporter --config`), mtail as a daemon (Debian package
 * `mtail`; skipped when absent). A writer in this process appends `--rate` lines per second in 10 ms batches and
 * rotates every `--rotate-every` ms, in two scenarios:
 *   rename        access.log -> access.log.1 (the previous .1 removed first), writing on to the renamed file for
 *                 `--reopen-after` ms (what nginx does until it gets USR1), then a new access.log;
 *   copytruncate  access.log copied to access.log.1, then truncated, the writer continuing at once (O_APPEND), as
 *                 logrotate's copytruncate does; the copy and the truncation happen between two writes, so every
 *                 line written exists in one of the files and a reader can count all of them.
 * Every line written is known, so each reader's count after it settles is exact, lost or duplicated. A reader has
 * settled when its count equals the lines written, or has not moved for 5 s (at most 60 s after the writer stops).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NGINX_BENCH_FORMAT, nginxLines } from './gen-lines.js';
import { freePort } from '../test/helpers/net.js';
import { writeResultsSection } from './results-file.js';

type Scenario = 'rename' | 'copytruncate';

interface Options {
  seconds: number;
  rate: number;
  rotateEveryMs: number;
  reopenAfterMs: number;
}

interface Reader {
  name: string;
  /** Lines counted so far (from the reader's own /metrics). */
  count(): Promise<number>;
  stop(): Promise<void>;
}

interface ReaderOutcome {
  name: string;
  counted: number;
  settledAfterMs: number;
}

interface ScenarioResult {
  scenario: Scenario;
  written: number;
  rotations: number;
  readers: ReaderOutcome[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Sum of the samples of `family` (any labels) in a Prometheus text body. */
function sumFamily(body: string, family: string): number {
  let sum = 0;
  for (const m of body.matchAll(new RegExp(`^${family}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

async function waitForUrl(url: string, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${name} did not answer ${url}`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
}

async function startOurs(dir: string, log: string): Promise<Reader> {
  const port = await freePort();
  const config = join(dir, 'crm-exporter.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      positions_file: join(dir, 'positions.json'),
      logs: [{ name: 'rotation', path: log, format: 'nginx', log_format: NGINX_BENCH_FORMAT, start_at: 'beginning' }],
    }),
  );
  const child = spawn(process.execPath, [join(repoRoot, 'bin/crm-exporter.js'), '--config', config], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForUrl(`http://127.0.0.1:${port}/healthz`, child, 'crm-exporter');
  return {
    name: 'crm-exporter',
    count: async () => sumFamily(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'crm_log_lines_total'),
    stop: stopper(child),
  };
}

async function startMtail(dir: string, log: string): Promise<Reader> {
  const progs = join(dir, 'mtail-progs');
  mkdirSync(progs, { recursive: true });
  writeFileSync(join(progs, 'lines.mtail'), 'counter crm_log_lines_total\n/$/ {\n  crm_log_lines_total++\n}\n');
  const port = await freePort();
  const child = spawn(
    'mtail',
    ['--progs', progs, '--logs', log, '--address', '127.0.0.1', '--port', String(port), '--logtostderr'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  await waitForUrl(`http://127.0.0.1:${port}/metrics`, child, 'mtail');
  return {
    name: 'mtail',
    count: async () => sumFamily(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'crm_log_lines_total'),
    stop: stopper(child),
  };
}

/** Appends lines at `rate` per second for `seconds`, rotating as `scenario` says; returns lines written and rotations. */
async function writeWithRotation(
  log: string,
  scenario: Scenario,
  o: Options,
): Promise<{ written: number; rotations: number }> {
  const total = Math.round(o.rate * o.seconds);
  const lines = nginxLines(total, 7);
  const batch = Math.max(1, Math.round(o.rate / 100));
  let fd = openSync(log, 'a');
  /** rename scenario: the renamed file's descriptor, written until the reopen. */
  let written = 0;
  let rotations = 0;
  const t0 = Date.now();
  let nextRotation = t0 + o.rotateEveryMs;
  let reopenAt = 0;
  while (written < total) {
    const chunk: string[] = [];
    for (let i = 0; i < batch && written + chunk.length < total; i++) chunk.push(`${lines.next().value as string}\n`);
    writeSync(fd, chunk.join(''));
    written += chunk.length;
    const now = Date.now();
    if (reopenAt > 0 && now >= reopenAt) {
      closeSync(fd);
      fd = openSync(log, 'a');
      reopenAt = 0;
    }
    if (now >= nextRotation && reopenAt === 0) {
      rotations++;
      nextRotation += o.rotateEveryMs;
      if (scenario === 'rename') {
        rmSync(`${log}.1`, { force: true });
        renameSync(log, `${log}.1`);
        reopenAt = now + o.reopenAfterMs; // keep writing to the renamed file until then
      } else {
        copyFileSync(log, `${log}.1`);
        ftruncateSync(fd, 0);
      }
    }
    // pace: where the writer should be after `written` lines
    const due = t0 + (written / o.rate) * 1000;
    const ahead = due - Date.now();
    if (ahead > 0) await sleep(ahead);
  }
  closeSync(fd);
  if (!existsSync(log)) writeFileSync(log, ''); // a reopen that was still pending
  return { written, rotations };
}

async function settle(reader: Reader, written: number, stoppedAt: number): Promise<ReaderOutcome> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const counted = await reader.count();
    const now = Date.now();
    if (counted !== last) {
      last = counted;
      lastChange = now;
    }
    if (counted === written || now - lastChange >= 5000 || now - stoppedAt >= 60_000) {
      return { name: reader.name, counted, settledAfterMs: lastChange - stoppedAt };
    }
    await sleep(100);
  }
}

async function runScenario(scenario: Scenario, o: Options, withMtail: boolean): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), `bench-rotation-${scenario}-`));
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  const readers: Reader[] = [];
  try {
    readers.push(await startOurs(dir, log));
    if (withMtail) readers.push(await startMtail(dir, log));
    await sleep(500); // both have opened the file
    const { written, rotations } = await writeWithRotation(log, scenario, o);
    const stoppedAt = Date.now();
    const outcomes = await Promise.all(readers.map((r) => settle(r, written, stoppedAt)));
    return { scenario, written, rotations, readers: outcomes };
  } finally {
    await Promise.all(readers.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(results: ScenarioResult[], o: Options, command: string, mtailNote: string): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const out = [
    `Command: \`${command}\``,
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    '',
    `How: both readers tail the same nginx access log from its creation, with their default settings (ours: \`crm-exporter --config\`, ` +
      `poll fallback 1 s; mtail as a daemon${mtailNote}). The writer appends ${fmt(o.rate)} lines/s in 10 ms batches for ${o.seconds} s and ` +
      `rotates every ${o.rotateEveryMs} ms: **rename** = access.log -> access.log.1 (the older .1 removed), writing on to the renamed ` +
      `file for ${o.reopenAfterMs} ms before opening a new access.log (nginx before USR1); **copytruncate** = copy to access.log.1, then ` +
      'truncate, the writer continuing at once with O_APPEND (no line is lost from the files: copy and truncation fall between two ' +
      "writes). Counts are `crm_log_lines_total` from each reader's /metrics once it has settled (equal to the lines written, or " +
      'unchanged for 5 s).',
    '',
    '| scenario | rotations | lines written | reader | lines counted | lost | duplicated | settled after the writer stopped |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    for (const x of r.readers) {
      const lost = Math.max(0, r.written - x.counted);
      const dup = Math.max(0, x.counted - r.written);
      out.push(
        `| ${r.scenario} | ${r.rotations} | ${fmt(r.written)} | ${x.name} | ${fmt(x.counted)} | ${lost === 0 ? '0' : `**${fmt(lost)}**`} | ${dup === 0 ? '0' : `**${fmt(dup)}**`} | ${fmt(x.settledAfterMs)} ms |`,
      );
    }
  }
  const ours = results.flatMap((r) =>
    r.readers.filter((x) => x.name === 'crm-exporter').map((x) => x.counted === r.written),
  );
  out.push('', `crm-exporter exact in every scenario: ${ours.every(Boolean) ? 'yes' : '**no**'}.`);
  return out.join('\n');
}

async function main(): Promise<void> {
  const o: Options = {
    seconds: Number(argValue('--seconds') ?? 8),
    rate: Number(argValue('--rate') ?? 20_000),
    rotateEveryMs: Number(argValue('--rotate-every') ?? 1000),
    reopenAfterMs: Number(argValue('--reopen-after') ?? 200),
  };
  const mtail = spawnSync('sh', ['-c', 'command -v mtail']).status === 0;
  const version = mtail
    ? (spawnSync('mtail', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '').trim()
    : '';
  if (!mtail) process.stderr.write('mtail not installed: only crm-exporter is measured\n');
  const results: ScenarioResult[] = [];
  for (const scenario of ['rename', 'copytruncate'] as const) {
    process.stderr.write(`${scenario} ... `);
    const r = await runScenario(scenario, o, mtail);
    results.push(r);
    process.stderr.write(`${r.written} written; ${r.readers.map((x) => `${x.name} ${x.counted}`).join(', ')}\n`);
  }
  const command = `npm run bench:rotation${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const md = markdown(results, o, command, mtail ? ` (${version})` : ', not installed');
  process.stdout.write(`\n${md}\n`);
  if (process.argv.includes('--write-results')) writeResultsSection('bench:rotation', md);
  const exact = results.every((r) => r.readers.every((x) => x.name !== 'crm-exporter' || x.counted === r.written));
  process.exitCode = exact ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
