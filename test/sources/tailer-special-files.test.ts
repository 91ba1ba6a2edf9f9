/**
 * FileTailer and non-regular files at the log path (issue 11, item A4): a FIFO must never block start(), the pump
 * or close(); it is refused with state 'not-regular' and one onError report, and reading resumes once a regular file
 * is at the path again.
 */
import { appendFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  expectExactly,
  makeFifo,
  makeTempDir,
  RecordingSink,
  releaseFifoReaders,
  removeDir,
  TailerPool,
  waitFor,
  within,
} from '../helpers/tail.js';

let dir: string;
let pool: TailerPool;
const fifos: string[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
  pool = new TailerPool();
});

afterEach(async () => {
  // code that opened a FIFO without O_NONBLOCK is stuck in a libuv thread until a writer comes: let it go
  for (const f of fifos.splice(0)) await releaseFifoReaders(f);
  await within(pool.closeAll(), 10_000, 'closing the tailers');
  await removeDir(dir);
});

const numbered = (tag: string, from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${tag}-${from + i}`);
const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');
const codes = (errors: readonly Error[]): string[] => errors.map((e) => String((e as { code?: unknown }).code));

async function fifoAt(p: string): Promise<void> {
  await makeFifo(p);
  fifos.push(p);
}

describe('FileTailer: a FIFO at the log path', () => {
  it('at start: start() returns, state not-regular, reported once; a regular file put there later is read', async () => {
    const p = join(dir, 'app.log');
    await fifoAt(p);
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 20 });
    await within(t.start(), 5_000, 'start() with a FIFO at the path');
    expect(t.state).toBe('not-regular');
    for (let i = 0; i < 5; i++) await within(t.caughtUp(), 5_000, 'a pass with a FIFO at the path');
    expect(t.state).toBe('not-regular');
    expect(codes(pool.errors)).toEqual(['ENOTFILE']);
    expect(pool.errors[0]?.message).toContain('is a FIFO, not a regular file');
    expect(t.position()).toBeUndefined();

    await unlink(p);
    await writeFile(p, text(numbered('ok', 0, 20)));
    await waitFor(
      () => sink.lines.length >= 20,
      '20 lines',
      10_000,
      () => `${sink.lines.length}, state ${t.state}`,
    );
    await t.caughtUp();
    expectExactly(sink.lines, numbered('ok', 0, 20));
    expect(t.state).toBe('open');
    await within(t.close(), 5_000, 'close()');
    expect(t.state).toBe('closed');
  });

  it('after a rotation to a FIFO: the renamed file keeps being read, state not-regular, close() completes', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('before', 0, 10)));
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, pollIntervalMs: 20 });
    await t.start();
    await waitFor(() => sink.lines.length >= 10, '10 lines');
    await rename(p, `${p}.1`);
    await fifoAt(p);
    // the writer still appends to the renamed file (it has not reopened its log yet): those lines still count
    await appendFile(`${p}.1`, text(numbered('late', 0, 5)));
    await waitFor(
      () => sink.lines.length >= 15,
      '15 lines',
      5_000,
      () => `${sink.lines.length}`,
    );
    for (let i = 0; i < 5; i++) await within(t.caughtUp(), 5_000, 'a pass with a FIFO at the path');
    expect(t.state).toBe('not-regular');
    expect(codes(pool.errors)).toEqual(['ENOTFILE']);

    // a regular file replaces the FIFO: read from 0 as the successor
    await unlink(p);
    await writeFile(p, text(numbered('after', 0, 7)));
    await waitFor(
      () => sink.lines.length >= 22,
      '22 lines',
      10_000,
      () => `${sink.lines.length}, state ${t.state}`,
    );
    expect(t.state).toBe('open');
    await within(t.close(), 5_000, 'close()');
    expectExactly(sink.lines, [...numbered('before', 0, 10), ...numbered('late', 0, 5), ...numbered('after', 0, 7)]);
  });

  it('close() during a pass that meets a FIFO at the path completes and keeps the position of the renamed file', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, text(numbered('x', 0, 3)));
    const sink = new RecordingSink();
    // no fs.watch and a poll far away: the pass that meets the FIFO is the one caughtUp() starts
    const t = pool.create({ path: p, sink, pollIntervalMs: 600_000, watch: false });
    await t.start();
    await t.caughtUp();
    expect(sink.lines).toHaveLength(3);
    const inode = t.position()?.inode;
    await rename(p, `${p}.1`);
    await fifoAt(p);
    const pass = t.caughtUp(); // a pass is running when close() is called: close() waits for it
    await within(t.close(), 5_000, 'close() with a FIFO at the path');
    await pass;
    expect(t.position()).toMatchObject({ inode, offset: Buffer.byteLength(text(numbered('x', 0, 3))) });
  });
});
