/**
 * A glob source in the positions file, through the whole exporter in-process: one entry `<name>:<path>` per file,
 * saved when a scrape is served (exactly once, as for a plain file), dropped once the file is gone and read to its end;
 * and PositionsWriter.forget() against snapshots served out of order.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { loadPositions, PositionsWriter } from '../../src/exporter/sources/positions.js';
import type { SavedPosition } from '../../src/exporter/sources/tailer.js';
import { appendLines, criRecords, expectEachOnce, requestsByRoute } from '../helpers/container-logs.js';
import { sampleSum } from '../helpers/exposition.js';
import { makeTempDir, removeDir, within } from '../helpers/tail.js';

let dir: string;
let positionsFile: string;
const running: RunningExporter[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
  positionsFile = join(dir, 'positions.json');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
  await removeDir(dir);
});

async function start(): Promise<RunningExporter> {
  const config = parseConfig({
    listen: '127.0.0.1:0',
    positions_file: positionsFile,
    positions_interval: '100ms',
    logs: [
      {
        name: 'pods',
        path: join(dir, 'pods/*/*/*.log'),
        format: 'json',
        container_format: 'cri',
        path_labels: '/pods/(?<pod>[^/]+)/',
        start_at: 'beginning',
        poll_interval: '20ms',
        max_routes: 1000,
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

/** Polls the asynchronous `cond` until it holds, or fails after 25 s (deadline for a loaded machine, not a timing claim). */
const waitFor = (cond: () => Promise<boolean>, what: string): Promise<void> =>
  within(
    (async () => {
      while (!(await cond())) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    25_000,
    what,
  );

const scrape = async (e: RunningExporter): Promise<string> => (await fetch(`${e.url}/metrics`)).text();
const caughtUp = (e: RunningExporter): Promise<void> => e.globPipelines[0]?.caughtUp() ?? Promise.resolve();

describe('a glob source in the positions file', () => {
  it('one entry per file, saved by served scrapes; a restart counts exactly what no scrape reported', async () => {
    const a = join(dir, 'pods/a/crm/0.log');
    const b = join(dir, 'pods/b/crm/0.log');
    await appendLines(a, (t) => criRecords(t), 0, 10);
    await appendLines(b, (t) => criRecords(t), 100, 10);
    const first = await start();
    await caughtUp(first);
    expect(sampleSum(await scrape(first), 'crm_http_requests_total')).toBe(20);
    await waitFor(async () => Object.keys(await loadPositions(positionsFile)).length === 2, 'positions written');
    expect(Object.keys(await loadPositions(positionsFile)).sort()).toEqual([`pods:${a}`, `pods:${b}`]);
    // read but never served: counted again after the restart
    await appendLines(a, (t) => criRecords(t), 10, 5);
    await caughtUp(first);
    await stop(first);
    const second = await start();
    await caughtUp(second);
    const text = await scrape(second);
    expectEachOnce(requestsByRoute(text), 10, 5);
    expect(sampleSum(text, 'crm_http_requests_total', { pod: 'a' })).toBe(5);
  });

  it('drops the entry of a file that is gone and read to its end', async () => {
    const a = join(dir, 'pods/a/crm/0.log');
    const b = join(dir, 'pods/b/crm/0.log');
    await appendLines(a, (t) => criRecords(t), 0, 3);
    await appendLines(b, (t) => criRecords(t), 100, 3);
    const e = await start();
    await caughtUp(e);
    await scrape(e);
    await waitFor(async () => Object.keys(await loadPositions(positionsFile)).length === 2, 'two entries');
    await rm(join(dir, 'pods/a'), { recursive: true });
    await waitFor(async () => {
      await scrape(e);
      return Object.keys(await loadPositions(positionsFile)).join() === `pods:${b}`;
    }, 'the entry of pod a dropped');
    expect(sampleSum(await scrape(e), 'crm_log_files', { log: 'pods' })).toBe(1);
  });
});

describe('PositionsWriter.forget', () => {
  const pos = (offset: number): SavedPosition => ({ inode: 1, offset, head: '' });

  it('drops an entry; a snapshot taken before the forget and served after it does not bring it back', async () => {
    const file = join(dir, 'p.json');
    let current: Record<string, SavedPosition> = { a: pos(1), b: pos(2) };
    const w = new PositionsWriter(file, 60_000, () => current);
    await w.served(w.snapshot());
    const early = w.snapshot();
    current = { b: pos(3) };
    w.forget('a');
    await w.served(early);
    expect(Object.keys(await loadPositions(file))).toEqual(['b']);
    // a file at the same path again: its entry comes back with the next snapshot
    current = { a: pos(9), b: pos(3) };
    await w.served(w.snapshot());
    expect(await loadPositions(file)).toEqual({ a: pos(9), b: pos(3) });
  });
});
