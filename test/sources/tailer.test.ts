/**
 * FileTailer integration tests on real files (issue 2, item 5). Every case checks EXACT line counts and that no line
 * was delivered twice; results are awaited by polling with a timeout, never by fixed sleeps.
 */
import { copyFile, mkdir, rename, rmdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPositions, savePositions } from '../../src/exporter/sources/positions.js';
import type { FileTailer } from '../../src/exporter/sources/tailer.js';
import {
  Appender,
  expectExactly,
  makeTempDir,
  RecordingSink,
  removeDir,
  runWriter,
  TailerPool,
  waitFor,
  writerLines,
} from '../helpers/tail.js';

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

describe('FileTailer: start', () => {
  it("startAt 'beginning' reads the lines already in the file", async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('pre', 0, 100)));
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'beginning' });
    await t.start();
    expect(t.state).toBe('open');
    await t.caughtUp();
    expect(sink.lines).toEqual(numbered('pre', 0, 100));
    expect(t.position()?.offset).toBe((await stat(p)).size);
    expect(t.lagBytes()).toBe(0);
    expect(t.lastReadAt).toBeGreaterThan(0);
  });

  it("startAt 'end' skips complete lines already there; the line being written at start is delivered once, whole", async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, `${text(numbered('pre', 0, 100))}in-fli`);
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'end' });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toEqual([]);
    expect(t.bytesRead).toBe(6); // only the partial line was read
    const w = await Appender.open(p);
    await w.write('ght\n');
    await w.lines(numbered('post', 0, 50));
    await w.close();
    await waitFor(() => sink.lines.length >= 51, '51 lines');
    await t.caughtUp();
    expect(sink.lines).toEqual(['in-flight', ...numbered('post', 0, 50)]);
  });

  it("file absent at start: state 'missing', then read from 0 when it appears (even with startAt 'end')", async () => {
    const p = join(dir, 'later.log');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'end' });
    await t.start();
    expect(t.state).toBe('missing');
    expect(t.position()).toBeUndefined();
    await t.caughtUp();
    await writeFile(p, text(numbered('late', 0, 300)));
    await waitFor(
      () => sink.lines.length >= 300,
      '300 lines',
      20_000,
      () => `${sink.lines.length}, state ${t.state}`,
    );
    await t.caughtUp();
    expect(t.state).toBe('open');
    expectExactly(sink.lines, numbered('late', 0, 300));
    expect(t.rotations).toBe(0);
  });

  it('file in a directory that does not exist yet is picked up when both appear', async () => {
    const sub = join(dir, 'not-yet');
    const p = join(sub, 'app.log');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink });
    await t.start();
    expect(t.state).toBe('missing');
    await mkdir(sub);
    await writeFile(p, text(numbered('d', 0, 10)));
    await waitFor(() => sink.lines.length >= 10, '10 lines');
    await t.caughtUp();
    expectExactly(sink.lines, numbered('d', 0, 10));
  });
});

describe('FileTailer: line splitting', () => {
  it('a partial last line is held back and counted once when completed; position() ends at the last complete line', async () => {
    const p = join(dir, 'app.log');
    const w = await Appender.open(p);
    await w.write('one\ntw');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toEqual(['one']);
    expect(t.position()?.offset).toBe(4);
    expect(t.bytesRead).toBe(6);
    await w.write('o');
    await t.caughtUp();
    expect(sink.lines).toEqual(['one']);
    await w.write('\nthree\n');
    await w.close();
    await waitFor(() => sink.lines.length >= 3, '3 lines');
    await t.caughtUp();
    expect(sink.lines).toEqual(['one', 'two', 'three']);
    expect(t.position()?.offset).toBe(14);
  });

  it('a multi-byte UTF-8 character split across two writes arrives with its original bytes', async () => {
    const p = join(dir, 'app.log');
    const original = Buffer.from('caf\u00e9 \u20ac 100 \u{1F600} \u4e2d\u6587 done', 'utf8');
    const emoji = original.indexOf(Buffer.from('\u{1F600}', 'utf8'));
    const cut = emoji + 2; // inside the 4-byte sequence
    const w = await Appender.open(p);
    await w.write('first\n');
    await w.write(original.subarray(0, cut));
    const sink = new RecordingSink(true);
    const t = pool.create({ path: p, sink });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toEqual(['first']);
    await w.write(Buffer.concat([original.subarray(cut), Buffer.from('\n')]));
    await w.close();
    await waitFor(() => sink.lines.length >= 2, '2 lines');
    await t.caughtUp();
    expect(sink.raw).toHaveLength(2);
    expect(sink.raw[1]?.equals(original)).toBe(true);
    expect(sink.lines[1]).toBe(original.toString('utf8'));
  });

  it('CRLF: the "\\r" is stripped; empty lines (also "\\r\\n" alone) are delivered as zero-length lines', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, 'a\r\n\r\nb\n\nc\r\nd\r\r\n');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toEqual(['a', '', 'b', '', 'c', 'd\r']);
  });

  it('maxLineBytes boundary: exactly max bytes is a line (also before "\\r\\n"), max + 1 is oversized', async () => {
    const p = join(dir, 'app.log');
    const max = 16;
    const ok = 'x'.repeat(max);
    const tooLong = 'y'.repeat(max + 1);
    await writeFile(p, `${ok}\n${ok}\r\n${tooLong}\n${tooLong}\r\nafter\n`);
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, maxLineBytes: max });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toEqual([ok, ok, 'after']);
    expect(sink.oversizedCount).toBe(2);
  });

  it('an oversized line that arrives in many small writes is reported once and skipped', async () => {
    const p = join(dir, 'app.log');
    const w = await Appender.open(p);
    await w.write('before\n');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, maxLineBytes: 1024 });
    await t.start();
    await t.caughtUp();
    for (let i = 0; i < 20; i++) {
      await w.write('z'.repeat(500));
      await t.caughtUp();
    }
    await w.write('\nafter\n');
    await w.close();
    await waitFor(() => sink.lines.length >= 2, '2 lines');
    await t.caughtUp();
    expect(sink.lines).toEqual(['before', 'after']);
    expect(sink.oversizedCount).toBe(1);
  });
});

/**
 * A tailer on `p` (which holds `lines`), started and caught up. Its quiet period is 2 poll intervals = 2 minutes, so
 * whatever it reads from a new file in a test was read while the renamed one was still being drained.
 */
async function drainingTailer(p: string, sink: RecordingSink, lines: readonly string[]): Promise<FileTailer> {
  await writeFile(p, text(lines));
  const t = pool.create({ path: p, sink, startAt: 'beginning', pollIntervalMs: 60_000 });
  await t.start();
  await t.caughtUp();
  return t;
}

/** logrotate's rename + create under a writer that keeps its descriptor: returns an appender on the renamed file. */
async function renameAndCreate(p: string, newLines: readonly string[]): Promise<Appender> {
  const old = await Appender.open(p);
  await rename(p, `${p}.1`);
  await writeFile(p, text(newLines));
  return old;
}

describe('FileTailer: rename + create rotation', () => {
  it('a writer that keeps appending to the renamed file for 2 s: every line is counted, none twice', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('old', 0, 10))); // there before start: skipped by startAt 'end'
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'end', pollIntervalMs: 200 });
    await t.start();
    const wrote = await runWriter({
      mode: 'late-rename',
      path: p,
      before: 3000,
      lateMs: 2000,
      newFileDelayMs: 0,
      intervalMs: 5,
      batch: 5,
    });
    const expected = [...writerLines('A', 0, wrote.A ?? 0), ...writerLines('B', 0, wrote.B ?? 0)];
    expect(wrote.A).toBeGreaterThan(3000);
    expect(wrote.B).toBeGreaterThan(0);
    await waitFor(
      () => sink.lines.length >= expected.length,
      `${expected.length} lines`,
      20_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, expected);
    expect(t.rotations).toBe(1);
  });

  it('the new file appears only 2 s after the rename: the old one is held meanwhile, the new one read from 0', async () => {
    const p = join(dir, 'app.log');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'end', pollIntervalMs: 100 });
    await writeFile(p, '');
    await t.start();
    const wrote = await runWriter({
      mode: 'late-rename',
      path: p,
      before: 2000,
      lateMs: 300,
      newFileDelayMs: 2000,
      intervalMs: 5,
      batch: 5,
    });
    const expected = [...writerLines('A', 0, wrote.A ?? 0), ...writerLines('B', 0, wrote.B ?? 0)];
    await waitFor(
      () => sink.lines.length >= expected.length,
      `${expected.length} lines`,
      20_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, expected);
    expect(t.rotations).toBe(1);
  });

  it('the new file is read at once while the renamed one is still drained alongside it (no wait for the quiet period)', async () => {
    const p = join(dir, 'app.log');
    const sink = new RecordingSink();
    const t = await drainingTailer(p, sink, numbered('before', 0, 100));
    const old = await renameAndCreate(p, numbered('new', 0, 200));
    try {
      await old.lines(numbered('late', 0, 50));
      await t.caughtUp();
      expectExactly(sink.lines, [
        ...numbered('before', 0, 100),
        ...numbered('new', 0, 200),
        ...numbered('late', 0, 50),
      ]);
      expect(t.rotations).toBe(1);

      await old.write('later-0\nlater-1\nlater-'); // the renamed file is still read, partial line included
      await writeFile(p, text(numbered('new', 200, 30)), { flag: 'a' });
      await t.caughtUp();
      await old.write('2\n');
      await t.caughtUp();
      expectExactly(sink.lines, [
        ...numbered('before', 0, 100),
        ...numbered('new', 0, 230),
        ...numbered('late', 0, 50),
        ...numbered('later', 0, 3),
      ]);
      const saved = t.position();
      expect(saved).toMatchObject({ inode: (await stat(`${p}.1`)).ino, next: { inode: (await stat(p)).ino } });
    } finally {
      await old.close();
    }
  });

  it('rotations faster than the quiet period: every renamed file keeps being drained alongside the newest one', async () => {
    const p = join(dir, 'app.log');
    const sink = new RecordingSink();
    const t = await drainingTailer(p, sink, numbered('a', 0, 10));
    const a = await renameAndCreate(p, numbered('b', 0, 20));
    await t.caughtUp();
    const b = await renameAndCreate(p, numbered('c', 0, 30)); // takes the first file's name: it lives on only through descriptors
    try {
      await a.lines(numbered('a', 10, 5));
      await b.lines(numbered('b', 20, 6));
      await t.caughtUp();
      expectExactly(sink.lines, [...numbered('a', 0, 15), ...numbered('b', 0, 26), ...numbered('c', 0, 30)]);
      expect(t.rotations).toBe(2);
      expect(t.lagBytes()).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a restart while the renamed file is still drained resumes both files from the saved position, every line once', async () => {
    const p = join(dir, 'app.log');
    const positionsFile = join(dir, 'positions.json');
    const sink = new RecordingSink();
    const t1 = await drainingTailer(p, sink, numbered('run1', 0, 100));
    const old = await renameAndCreate(p, numbered('new', 0, 200));
    try {
      await old.lines(numbered('late', 0, 50));
      await t1.caughtUp();
      await old.write('half-');
      await t1.close();
      await savePositions(positionsFile, { app: t1.position()! });

      // while down, both files grow (the half line is completed in the renamed one)
      await old.write('line\n');
      await old.lines(numbered('down-old', 0, 40));
      await writeFile(p, text(numbered('down-new', 0, 60)), { flag: 'a' });
      const saved = await loadPositions(positionsFile);
      expect(saved.app?.next).toBeDefined();
      const t2 = pool.create({ path: p, sink, resume: saved.app, pollIntervalMs: 50 });
      await t2.start();
      await old.lines(numbered('run2-old', 0, 10));
      await writeFile(p, text(numbered('run2-new', 0, 20)), { flag: 'a' });
      const expected = [
        ...numbered('run1', 0, 100),
        ...numbered('new', 0, 200),
        ...numbered('late', 0, 50),
        'half-line',
        ...numbered('down-old', 0, 40),
        ...numbered('down-new', 0, 60),
        ...numbered('run2-old', 0, 10),
        ...numbered('run2-new', 0, 20),
      ];
      await waitFor(
        () => sink.lines.length >= expected.length,
        `${expected.length} lines`,
        20_000,
        () => `${sink.lines.length}`,
      );
      await t2.caughtUp();
      expectExactly(sink.lines, expected);
      expect(t2.rotations).toBe(0); // both files were already known: no new rotation
    } finally {
      await old.close();
    }
  });

  it('under load: 200k lines written while the file is rotated 5 times -> exactly 200k lines, no duplicates', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, '');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 100 });
    await t.start();
    const wrote = await runWriter({
      mode: 'rotate-load',
      path: p,
      total: 200_000,
      rotations: 5,
      batch: 400,
      pauseMs: 2,
    });
    expect(wrote).toEqual({ L: 200_000, rotations: 5 });
    await waitFor(
      () => sink.lines.length >= 200_000,
      '200000 lines',
      30_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, writerLines('L', 0, 200_000));
    expect(t.rotations).toBe(5);
    expect(t.bytesRead).toBe(200_000 * (writerLines('L', 0, 1)[0]?.length ?? 0) + 200_000);
  });
});

describe('FileTailer: copytruncate and delete', () => {
  it('copytruncate with a writer that continues at once: lines not yet read come from the copy in path.1', async () => {
    const p = join(dir, 'app.log');
    const w = await Appender.open(p);
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 100 });
    await t.start();
    for (let i = 0; i < 5000; i += 250) await w.lines(numbered('before', i, 250));
    // logrotate copytruncate: copy, then truncate in place; the writer's O_APPEND descriptor continues at offset 0
    await copyFile(p, `${p}.1`);
    await truncate(p, 0);
    for (let i = 0; i < 5000; i += 250) await w.lines(numbered('after', i, 250));
    await w.close();
    const expected = [...numbered('before', 0, 5000), ...numbered('after', 0, 5000)];
    await waitFor(
      () => sink.lines.length >= expected.length,
      `${expected.length} lines`,
      20_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, expected);
    expect(t.rotations).toBe(1);
  });

  it('a file truncated and regrown past its old size before the tailer looks is detected by its first bytes', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('gen1', 0, 100)));
    const sink = new RecordingSink();
    // no fs.watch and a poll far away: the tailer only looks when caughtUp() asks it to
    const t = pool.create({ path: p, sink, pollIntervalMs: 600_000, watch: false });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toHaveLength(100);
    const oldSize = (await stat(p)).size;
    await truncate(p, 0);
    await writeFile(p, text(numbered('generation2', 0, 150)), { flag: 'a' });
    expect((await stat(p)).size).toBeGreaterThan(oldSize);
    await t.caughtUp();
    expectExactly(sink.lines, [...numbered('gen1', 0, 100), ...numbered('generation2', 0, 150)]);
    expect(t.rotations).toBe(1);
  });

  it('copytruncate + regrow before the tailer looks, with unread lines: they are read from the path.1 copy', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('gen1', 0, 100)));
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 600_000, watch: false });
    await t.start();
    await t.caughtUp();
    await writeFile(p, `${text(numbered('gen1', 100, 50))}gen1-150-part`, { flag: 'a' }); // not read yet
    await copyFile(p, `${p}.1`);
    await truncate(p, 0);
    await writeFile(p, text(numbered('generation2', 0, 200)), { flag: 'a' });
    await t.caughtUp();
    // the copy's unterminated last line is delivered as it is (it can never be completed)
    expectExactly(sink.lines, [...numbered('gen1', 0, 150), 'gen1-150-part', ...numbered('generation2', 0, 200)]);
    expect(t.rotations).toBe(1);
  });

  it('deleted, then recreated later: the tailer goes missing and picks up the new file from 0', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('first', 0, 500)));
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 50 });
    await t.start();
    await waitFor(() => sink.lines.length >= 500, '500 lines');
    await unlink(p);
    await waitFor(() => t.state === 'missing', "state 'missing'");
    await writeFile(p, text(numbered('second', 0, 700)));
    await waitFor(
      () => sink.lines.length >= 1200,
      '1200 lines',
      20_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, [...numbered('first', 0, 500), ...numbered('second', 0, 700)]);
    expect(t.rotations).toBe(1);
  });

  it('deleted and recreated at once, with unread lines in the deleted file: both files read completely', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('first', 0, 10)));
    const sink = new RecordingSink();
    // no fs.watch: the tailer most likely looks only after the file was replaced (exact either way)
    const t = pool.create({ path: p, sink, pollIntervalMs: 50, watch: false });
    await t.start();
    await t.caughtUp();
    await writeFile(p, text(numbered('first', 10, 90)), { flag: 'a' });
    await unlink(p);
    await writeFile(p, text(numbered('second', 0, 50)));
    await waitFor(() => sink.lines.length >= 150, '150 lines');
    await t.caughtUp();
    expectExactly(sink.lines, [...numbered('first', 0, 100), ...numbered('second', 0, 50)]);
    expect(t.rotations).toBe(1);
  });
});

describe('FileTailer: restart with saved positions', () => {
  it('lines written while the tailer was down are counted exactly once (including a line half-written at shutdown)', async () => {
    const p = join(dir, 'app.log');
    const positionsFile = join(dir, 'state', 'positions.json');
    const sink = new RecordingSink();
    const w = await Appender.open(p);
    await w.lines(numbered('run1', 0, 1000));
    const t1 = pool.create({ path: p, sink });
    await t1.start();
    await waitFor(() => sink.lines.length >= 1000, '1000 lines');
    await w.write('half-');
    await t1.close();
    const pos = t1.position();
    expect(pos?.offset).toBe(Buffer.byteLength(text(numbered('run1', 0, 1000))));
    await savePositions(positionsFile, { app: pos! });

    await w.write('written\n');
    await w.lines(numbered('down', 0, 500));
    const saved = await loadPositions(positionsFile);
    const t2 = pool.create({ path: p, sink, startAt: 'end', resume: saved.app }); // resume wins over startAt
    await t2.start();
    await w.lines(numbered('run2', 0, 200));
    await w.close();
    await waitFor(
      () => sink.lines.length >= 1701,
      '1701 lines',
      20_000,
      () => `${sink.lines.length}`,
    );
    await t2.caughtUp();
    expectExactly(sink.lines, [
      ...numbered('run1', 0, 1000),
      'half-written',
      ...numbered('down', 0, 500),
      ...numbered('run2', 0, 200),
    ]);
    expect(t2.rotations).toBe(0);
  });

  it('a rotation during the downtime: the rest of the old file is read from path.1, then the new file from 0', async () => {
    const p = join(dir, 'app.log');
    const positionsFile = join(dir, 'positions.json');
    const sink = new RecordingSink();
    await writeFile(p, text(numbered('run1', 0, 800)));
    const t1 = pool.create({ path: p, sink });
    await t1.start();
    await waitFor(() => sink.lines.length >= 800, '800 lines');
    await t1.close();
    await savePositions(positionsFile, { app: t1.position()! });

    await writeFile(p, text(numbered('down-old', 0, 300)), { flag: 'a' });
    await rename(p, `${p}.1`);
    await writeFile(p, text(numbered('down-new', 0, 400)));
    const saved = await loadPositions(positionsFile);
    const t2 = pool.create({ path: p, sink, resume: saved.app, pollIntervalMs: 50 });
    await t2.start();
    await writeFile(p, text(numbered('run2', 0, 100)), { flag: 'a' });
    await waitFor(
      () => sink.lines.length >= 1600,
      '1600 lines',
      20_000,
      () => `${sink.lines.length}`,
    );
    await t2.caughtUp();
    expectExactly(sink.lines, [
      ...numbered('run1', 0, 800),
      ...numbered('down-old', 0, 300),
      ...numbered('down-new', 0, 400),
      ...numbered('run2', 0, 100),
    ]);
    expect(t2.rotations).toBe(1);
  });

  it('the saved file is gone (no path.1 with its inode): the current file is read from 0', async () => {
    const p = join(dir, 'app.log');
    const sink = new RecordingSink();
    await writeFile(p, text(numbered('run1', 0, 50)));
    const t1 = pool.create({ path: p, sink });
    await t1.start();
    await waitFor(() => sink.lines.length >= 50, '50 lines');
    await t1.close();
    const pos = t1.position()!;
    await rename(p, join(dir, 'elsewhere.log'));
    await writeFile(p, text(numbered('fresh', 0, 60)));
    const t2 = pool.create({ path: p, sink, startAt: 'end', resume: pos });
    await t2.start();
    await waitFor(() => sink.lines.length >= 110, '110 lines');
    await t2.caughtUp();
    expectExactly(sink.lines, [...numbered('run1', 0, 50), ...numbered('fresh', 0, 60)]);
    expect(t2.rotations).toBe(1);
  });

  it('copytruncate during the downtime: the unread tail comes from the path.1 copy, then the file from 0', async () => {
    const p = join(dir, 'app.log');
    const sink = new RecordingSink();
    await writeFile(p, text(numbered('run1', 0, 50)));
    const t1 = pool.create({ path: p, sink });
    await t1.start();
    await waitFor(() => sink.lines.length >= 50, '50 lines');
    await t1.close();
    const pos = t1.position()!;
    await writeFile(p, text(numbered('down-old', 0, 30)), { flag: 'a' });
    await copyFile(p, `${p}.1`);
    await truncate(p, 0);
    await writeFile(p, text(numbered('down-new', 0, 20)), { flag: 'a' });
    const t2 = pool.create({ path: p, sink, resume: pos });
    await t2.start();
    await waitFor(() => sink.lines.length >= 100, '100 lines');
    await t2.caughtUp();
    expectExactly(sink.lines, [
      ...numbered('run1', 0, 50),
      ...numbered('down-old', 0, 30),
      ...numbered('down-new', 0, 20),
    ]);
  });
});

describe('FileTailer: lifecycle', () => {
  it('a path that cannot be read is reported once through onError, and the tailer keeps retrying', async () => {
    const p = join(dir, 'app.log');
    await mkdir(p); // a directory where the log should be
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 20 });
    await t.start();
    for (let i = 0; i < 5; i++) await t.caughtUp();
    expect(t.state).toBe('not-regular');
    expect(pool.errors.map((e) => (e as { code?: string }).code)).toEqual(['ENOTFILE']);
    expect(pool.errors[0]?.message).toContain('is a directory, not a regular file');
    await rmdir(p);
    await writeFile(p, text(numbered('ok', 0, 5)));
    await waitFor(() => sink.lines.length >= 5, '5 lines');
    expectExactly(sink.lines, numbered('ok', 0, 5));
  });

  it('close() drains what is already written, then the state is closed', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, '');
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 600_000, watch: false });
    await t.start();
    await t.caughtUp();
    await writeFile(p, text(numbered('x', 0, 1234)), { flag: 'a' });
    await t.close();
    expect(t.state).toBe('closed');
    expectExactly(sink.lines, numbered('x', 0, 1234));
    await t.caughtUp(); // resolves at once when closed
    expect(pool.errors).toEqual([]);
  });
});
