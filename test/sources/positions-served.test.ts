import { appendFile, copyFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { loadPositions, savePositions } from '../../src/exporter/sources/positions.js';
import type { SavedPosition } from '../../src/exporter/sources/tailer.js';
import { sampleSum } from '../helpers/exposition.js';
import { expectExactly, makeTempDir, RecordingSink, removeDir, TailerPool, waitFor } from '../helpers/tail.js';

/*
 * Issue 11 B2: the positions file holds the offsets whose lines were counted in the last /metrics answer written
 * whole to a client, so a restarted exporter counts again exactly what no scrape reported (the end-to-end proof with
 * a real Prometheus and SIGKILL is test/e2e/exactly-once.test.ts). Here through the whole exporter in-process:
 * close() leaves the file as a SIGKILL would (it writes nothing that was not served).
 */
let dir: string;
let log: string;
let positionsFile: string;
const running: RunningExporter[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
  log = join(dir, 'access.log');
  positionsFile = join(dir, 'positions.json');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
  await removeDir(dir);
});

const line = (i: number, status = 200): string =>
  `${JSON.stringify({ time: '2026-11-27T08:00:00Z', method: 'GET', path: `/api/customers/${i}`, route: '/api/customers/:id', status, duration_ms: 5, bytes: 100 })}\n`;
const lines = (from: number, n: number, status = 200): string =>
  Array.from({ length: n }, (_, i) => line(from + i, status)).join('');

async function start(opts: { startAt?: 'beginning' | 'end'; pollInterval?: string } = {}): Promise<RunningExporter> {
  const config = parseConfig({
    listen: '127.0.0.1:0',
    positions_file: positionsFile,
    positions_interval: '100ms',
    logs: [
      {
        name: 'crm',
        path: log,
        format: 'json',
        start_at: opts.startAt ?? 'beginning',
        poll_interval: opts.pollInterval ?? '50ms',
      },
    ],
  });
  const exporter = await startExporter(config, { log: () => undefined });
  running.push(exporter);
  return exporter;
}

async function stop(exporter: RunningExporter): Promise<void> {
  running.splice(running.indexOf(exporter), 1);
  await exporter.close();
}

const counted = (e: RunningExporter): number => e.pipelines[0]?.status().lines ?? -1;
const saved = async (): Promise<SavedPosition | undefined> => (await loadPositions(positionsFile)).crm;
const sizeOf = async (p: string): Promise<number> => (await stat(p)).size;

/** Counts, after a restart, what the new exporter reads once caught up. */
async function countAfterRestart(): Promise<{ exporter: RunningExporter; text: string }> {
  const exporter = await start();
  await exporter.pipelines[0]?.caughtUp();
  return { exporter, text: await (await fetch(`${exporter.url}/metrics`)).text() };
}

/**
 * A GET /metrics from a raw socket that stops reading once the first bytes arrived (so the exporter has read its
 * counters and the rest of a large answer waits on us). `readAll` reads it to its end, `cut` hangs up mid-answer.
 */
async function stalledScrape(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ readAll(): Promise<number>; cut(): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`GET /metrics HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${extra}\r\n`);
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', (d: Buffer) => {
      bytes += d.length;
      socket.pause();
      resolve();
    });
  });
  return {
    readAll: () =>
      new Promise<number>((resolve, reject) => {
        socket.on('data', (d: Buffer) => (bytes += d.length));
        socket.once('end', () => resolve(bytes));
        socket.once('error', reject);
        socket.resume();
      }),
    cut: () => socket.destroy(),
  };
}

/** Makes every answer ~32 MB (far more than the socket buffers hold), so a client that stops reading holds it up. */
function largeAnswers(exporter: RunningExporter): () => void {
  const name = 'test_padding';
  new Gauge({ name, help: 'x'.repeat(32 * 1024 * 1024), registers: [exporter.registry] });
  return () => exporter.registry.removeSingleMetric(name);
}

describe('the positions file follows served scrapes', () => {
  it('holds the offsets of the last served scrape, not the lines counted since; a restart counts those again', async () => {
    await writeFile(log, lines(0, 10));
    const first = await start();
    await expect.poll(() => counted(first), { timeout: 10_000 }).toBe(10);
    const text = await (await fetch(`${first.url}/metrics`)).text();
    expect(sampleSum(text, 'crm_http_requests_total')).toBe(10);
    const ten = await sizeOf(log);
    await expect.poll(async () => (await saved())?.offset, { timeout: 10_000 }).toBe(ten);

    await appendFile(log, lines(10, 5, 503));
    await expect.poll(() => counted(first), { timeout: 10_000 }).toBe(15);
    await new Promise((r) => setTimeout(r, 300)); // three positions_interval ticks: they must not save the 15
    await stop(first); // as after a SIGKILL: nothing written that no scrape served
    expect(await saved()).toMatchObject({ offset: ten });

    const { text: again } = await countAfterRestart();
    expect(sampleSum(again, 'crm_http_requests_total')).toBe(5);
    expect(sampleSum(again, 'crm_http_requests_total', { status: '503' })).toBe(5);
  });

  it('HEAD, a failed render, an answer cut mid-body and one finished after the scraper gave up do not advance it', async () => {
    await writeFile(log, lines(0, 10));
    const exporter = await start();
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(10);
    await (await fetch(`${exporter.url}/metrics`)).text();
    const ten = await sizeOf(log);
    await expect.poll(async () => (await saved())?.offset, { timeout: 10_000 }).toBe(ten);
    await appendFile(log, lines(10, 5));
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(15);

    // HEAD: the headers, no counters
    expect((await fetch(`${exporter.url}/metrics`, { method: 'HEAD' })).status).toBe(200);

    // a family that fails to render: the answer is an error (or cut), never a scrape
    let fail = true;
    new Gauge({
      name: 'test_failing',
      help: 'Throws while rendering.',
      registers: [exporter.registry],
      collect() {
        if (fail) throw new Error('render failure');
      },
    });
    const failed = async (): Promise<string> => {
      try {
        const res = await fetch(`${exporter.url}/metrics`);
        await res.text();
        return `status ${res.status}`;
      } catch {
        return 'cut';
      }
    };
    expect(await failed()).not.toBe('status 200');
    fail = false;
    exporter.registry.removeSingleMetric('test_failing');

    const unpad = largeAnswers(exporter);
    // the client hangs up in the middle of the answer
    const cut = await stalledScrape(exporter.url);
    cut.cut();
    // the client announced a 0.3 s timeout and read the answer only after 0.6 s: Prometheus would have given up
    const late = await stalledScrape(exporter.url, { 'X-Prometheus-Scrape-Timeout-Seconds': '0.3' });
    await new Promise((r) => setTimeout(r, 600));
    expect(await late.readAll()).toBeGreaterThan(32 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 300)); // a write it started would be done
    expect(await saved()).toMatchObject({ offset: ten });

    // the control: the same slow read without a timeout is a served scrape
    const slow = await stalledScrape(exporter.url);
    await new Promise((r) => setTimeout(r, 600));
    expect(await slow.readAll()).toBeGreaterThan(32 * 1024 * 1024);
    unpad();
    await expect.poll(async () => (await saved())?.offset, { timeout: 10_000 }).toBe(await sizeOf(log));
  });

  it('concurrent scrapes: an answer that read its counters earlier but finished later does not move the file back', async () => {
    await writeFile(log, lines(0, 10));
    const exporter = await start();
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(10);
    const unpad = largeAnswers(exporter);
    const older = await stalledScrape(exporter.url); // read its counters at 10 lines, held up by its client
    unpad();
    await appendFile(log, lines(10, 5));
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(15);
    const newer = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleSum(newer, 'crm_http_requests_total')).toBe(15);
    const fifteen = await sizeOf(log);
    await expect.poll(async () => (await saved())?.offset, { timeout: 10_000 }).toBe(fifteen);

    await older.readAll(); // served now, with the counters of 10 lines
    await appendFile(log, lines(15, 5));
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(20);
    await stop(exporter);
    expect(await saved()).toMatchObject({ offset: fifteen });
    const { text } = await countAfterRestart();
    expect(sampleSum(text, 'crm_http_requests_total')).toBe(5);
  });

  it('no scrape at all: a restart counts everything this run counted, from where it started (start_at: end too)', async () => {
    await writeFile(log, lines(0, 100)); // history, skipped by start_at: end
    const first = await start({ startAt: 'end' });
    // saved without a scrape: where this first run started (it has counted nothing yet)
    await expect.poll(async () => (await saved())?.offset, { timeout: 10_000 }).toBe(await sizeOf(log));
    await appendFile(log, lines(100, 7, 404));
    await expect.poll(() => counted(first), { timeout: 10_000 }).toBe(7);
    await new Promise((r) => setTimeout(r, 300));
    await stop(first);
    const { text } = await countAfterRestart(); // start_at: end again, but the saved position wins
    expect(sampleSum(text, 'crm_http_requests_total', { status: '404' })).toBe(7);
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(7);
  });

  it('rotation: a scrape while the renamed file is drained saves both offsets; a restart counts the rest of each once', async () => {
    await writeFile(log, lines(0, 10, 201));
    // 2 s polls: the renamed file is drained for 4 s after its last write (fs.watch notices the rotation at once)
    const exporter = await start({ pollInterval: '2s' });
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(10);
    await rename(log, `${log}.1`);
    await writeFile(log, lines(100, 3, 202));
    await appendFile(`${log}.1`, lines(10, 2, 201));
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(15);
    expect(exporter.pipelines[0]?.position()?.next).toBeDefined(); // still draining the renamed file
    await (await fetch(`${exporter.url}/metrics`)).text();
    const predecessor = await stat(`${log}.1`);
    const current = await stat(log);
    await expect
      .poll(async () => await saved(), { timeout: 10_000 })
      .toMatchObject({
        inode: predecessor.ino,
        offset: predecessor.size,
        next: { inode: current.ino, offset: current.size },
      });

    await appendFile(`${log}.1`, lines(12, 4, 201)); // late writes to the renamed file
    await appendFile(log, lines(103, 6, 202));
    await expect.poll(() => counted(exporter), { timeout: 10_000 }).toBe(25);
    await stop(exporter);
    const { text } = await countAfterRestart();
    expect(sampleSum(text, 'crm_http_requests_total', { status: '201' })).toBe(4);
    expect(sampleSum(text, 'crm_http_requests_total', { status: '202' })).toBe(6);
  });
});

describe('the position names copytruncate copy while its unread tail is read', () => {
  let pool: TailerPool;
  beforeEach(() => {
    pool = new TailerPool();
  });
  afterEach(async () => {
    await pool.closeAll();
  });

  const numbered = (tag: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${tag} ${String(i).padStart(6, '0')} ${'x'.repeat(100)}`);
  const text = (ls: string[]): string => ls.map((l) => `${l}\n`).join('');

  it('a position taken mid-copy resumes the copy from its offset and the file from 0: every line once', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('before', 10)));
    const t1 = pool.create({ path: p, sink: new RecordingSink() });
    await t1.start();
    await t1.caughtUp();
    await t1.close();
    const down = numbered('down-old', 2_000); // ~230 KB: more than one 64 KiB slice of the copy
    await appendFile(p, text(down));
    await copyFile(p, `${p}.1`);
    await truncate(p, 0);
    const fresh = numbered('down-new', 20);
    await appendFile(p, text(fresh));

    const sink = new RecordingSink();
    const t2 = pool.create({ path: p, sink, resume: t1.position() });
    await t2.start();
    // a scrape now: the copy is being read (one slice at most), the file at the path waits at 0
    const taken = t2.position();
    const countedThen = sink.lines.length;
    expect(countedThen).toBeLessThan(down.length);
    expect(taken).toMatchObject({ inode: (await stat(`${p}.1`)).ino, next: { inode: (await stat(p)).ino, offset: 0 } });
    await t2.caughtUp();
    await t2.close();

    await savePositions(join(dir, 'positions.json'), { app: taken! });
    const restarted = new RecordingSink();
    const t3 = pool.create({
      path: p,
      sink: restarted,
      resume: (await loadPositions(join(dir, 'positions.json'))).app,
    });
    await t3.start();
    await waitFor(() => countedThen + restarted.lines.length >= down.length + fresh.length, 'every line', 10_000);
    await t3.caughtUp();
    expectExactly([...sink.lines.slice(0, countedThen), ...restarted.lines], [...down, ...fresh]);
  });
});
