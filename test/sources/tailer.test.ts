/**
 * FileTailer integration tests on real files (issue 2, item 5): start, line splitting, rotation under a concurrent
 * writer process, lifecycle. The rotation, truncation and restart scenarios are one table in tailer-rotation.test.ts.
 * Every case checks EXACT line counts and that no line was delivered twice; results are awaited by polling with a
 * timeout, never by fixed sleeps.
 */
import { mkdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Appender,
  expectExactly,
  linesText as text,
  makeTempDir,
  numbered,
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

describe('FileTailer: rename + create rotation under a writer process', () => {
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
