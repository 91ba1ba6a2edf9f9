/**
 * FileTailer when the log cannot be opened at start (issue 11, item A5): the saved position and `startAt` stay
 * pending until the first successful open, and the saved offset is used only for the file it describes.
 * "Mounted late" is a rename of the log's directory (tests run as root, so permissions cannot hide a file).
 */
import { appendFile, mkdir, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPositions, savePositions } from '../../src/exporter/sources/positions.js';
import { BIRTH_SLACK_MS, type SavedPosition } from '../../src/exporter/sources/tailer.js';
import { expectExactly, makeTempDir, RecordingSink, removeDir, TailerPool, waitFor } from '../helpers/tail.js';

let dir: string;
let pool: TailerPool;

beforeEach(async () => {
  dir = await makeTempDir();
  pool = new TailerPool();
});

afterEach(async () => {
  await pool.closeAll();
  await removeDir(dir);
});

const numbered = (tag: string, from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${tag}-${from + i}`);
const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

/** Reads `p` from the beginning with a first tailer and returns its saved position, through the positions file. */
async function firstRun(p: string, sink: RecordingSink, expected: number): Promise<SavedPosition> {
  const t1 = pool.create({ path: p, sink });
  await t1.start();
  await waitFor(() => sink.lines.length >= expected, `${expected} lines`);
  await t1.close();
  const positionsFile = join(dir, 'positions.json');
  await savePositions(positionsFile, { app: t1.position()! });
  const saved = (await loadPositions(positionsFile)).app;
  expect(saved).toBeDefined();
  return saved!;
}

describe('FileTailer: the log cannot be opened at start', () => {
  it('a saved position is kept while the volume is not mounted, then used for the same file: no line twice', async () => {
    const vol = join(dir, 'vol');
    await mkdir(vol);
    const p = join(vol, 'app.log');
    await writeFile(p, text(numbered('run1', 0, 300)));
    const sink = new RecordingSink();
    const saved = await firstRun(p, sink, 300);

    await appendFile(p, text(numbered('down', 0, 40)));
    await rename(vol, join(dir, 'vol-unmounted'));
    const t2 = pool.create({ path: p, sink, startAt: 'beginning', resume: saved, pollIntervalMs: 20 });
    await t2.start();
    expect(t2.state).toBe('missing');
    for (let i = 0; i < 3; i++) await t2.caughtUp();
    expect(t2.position()).toEqual(saved); // still pending: a positions file written now keeps it

    await rename(join(dir, 'vol-unmounted'), vol);
    await appendFile(p, text(numbered('run2', 0, 10)));
    await waitFor(
      () => sink.lines.length >= 350,
      '350 lines',
      10_000,
      () => `${sink.lines.length}, state ${t2.state}`,
    );
    await t2.caughtUp();
    expectExactly(sink.lines, [...numbered('run1', 0, 300), ...numbered('down', 0, 40), ...numbered('run2', 0, 10)]);
    expect(t2.rotations).toBe(0);
  });

  it('rotated while the volume was away: the saved file is drained from path.1, then the new file from 0', async () => {
    const vol = join(dir, 'vol');
    await mkdir(vol);
    const p = join(vol, 'app.log');
    await writeFile(p, text(numbered('run1', 0, 100)));
    const sink = new RecordingSink();
    const saved = await firstRun(p, sink, 100);

    await rename(vol, join(dir, 'vol-unmounted'));
    const t2 = pool.create({ path: p, sink, resume: saved, pollIntervalMs: 20 });
    await t2.start();
    expect(t2.state).toBe('missing');
    const away = join(dir, 'vol-unmounted', 'app.log');
    await appendFile(away, text(numbered('down-old', 0, 30)));
    await rename(away, `${away}.1`);
    await writeFile(away, text(numbered('down-new', 0, 20)));
    await rename(join(dir, 'vol-unmounted'), vol);
    await waitFor(
      () => sink.lines.length >= 150,
      '150 lines',
      10_000,
      () => `${sink.lines.length}, state ${t2.state}`,
    );
    await t2.caughtUp();
    expectExactly(sink.lines, [
      ...numbered('run1', 0, 100),
      ...numbered('down-old', 0, 30),
      ...numbered('down-new', 0, 20),
    ]);
    expect(t2.rotations).toBe(1);
  });

  it('the file that appears is not the saved one: it is read from 0, once', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('run1', 0, 50)));
    const sink = new RecordingSink();
    const saved = await firstRun(p, sink, 50);
    await unlink(p);
    const t2 = pool.create({ path: p, sink, startAt: 'end', resume: saved, pollIntervalMs: 20 });
    await t2.start();
    expect(t2.state).toBe('missing');
    await t2.caughtUp();
    await writeFile(p, text(numbered('fresh', 0, 60)));
    await waitFor(
      () => sink.lines.length >= 110,
      '110 lines',
      10_000,
      () => `${sink.lines.length}`,
    );
    await t2.caughtUp();
    expectExactly(sink.lines, [...numbered('run1', 0, 50), ...numbered('fresh', 0, 60)]);
    expect(t2.rotations).toBe(1);
  });

  it("startAt 'end', no saved position, the log symlinked only later: its history is skipped, new lines counted", async () => {
    const real = join(dir, 'real.log');
    await writeFile(real, text(numbered('history', 0, 1000)));
    // history is older than start(): a file born within BIRTH_SLACK_MS of start() counts as created after it
    const born = (await stat(real)).birthtimeMs;
    await waitFor(() => Date.now() > born + 2 * BIRTH_SLACK_MS, 'the history file to be older than the slack');
    const p = join(dir, 'app.log');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'end', pollIntervalMs: 20 });
    await t.start();
    expect(t.state).toBe('missing');
    await t.caughtUp();
    await symlink(real, p);
    await waitFor(
      () => t.state === 'open',
      "state 'open'",
      10_000,
      () => t.state,
    );
    await t.caughtUp();
    expect(sink.lines).toEqual([]);
    await appendFile(real, text(numbered('new', 0, 5)));
    await waitFor(
      () => sink.lines.length >= 5,
      '5 lines',
      10_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, numbered('new', 0, 5));
    expect(t.rotations).toBe(0);
  });
});
