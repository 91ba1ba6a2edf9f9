/**
 * FileTailer when the log's directory cannot be looked up for a while (permission bits changed, a mount gone stale)
 * while it holds the current file open. Tests run as root, which permission bits do not stop, so the path is made
 * unresolvable another way: the directory is reached through a symlink that is pointed at a regular file (ENOTDIR),
 * then back. test/e2e/dependency-faults.test.ts does the same with real permission bits (EACCES) on an exporter
 * running as another user.
 */
import { appendFile, mkdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectExactly, makeTempDir, RecordingSink, removeDir, TailerPool, waitFor, within } from '../helpers/tail.js';

let dir: string;
let pool: TailerPool;

beforeEach(async () => {
  dir = await makeTempDir();
  pool = new TailerPool();
});

afterEach(async () => {
  await within(pool.closeAll(), 10_000, 'closing the tailers');
  await removeDir(dir);
});

const numbered = (tag: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${tag}-${i}`);
const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

describe('FileTailer: the path cannot be looked up while a rotated successor waits', () => {
  it('reports it once and is not readable; once the path resolves again the successor is read, every line once', async () => {
    const real = join(dir, 'real');
    await mkdir(real);
    const via = join(dir, 'via');
    await symlink(real, via);
    await writeFile(join(dir, 'not-a-dir'), 'x');
    const sink = new RecordingSink();
    const t = pool.create({ path: join(via, 'app.log'), sink, pollIntervalMs: 20 });
    await writeFile(join(real, 'app.log'), text(numbered('a', 10)));
    await t.start();
    await waitFor(() => sink.lines.length === 10, 'the first 10 lines');
    expect(t.readable).toBe(true);

    // The directory becomes unresolvable, and meanwhile the log rotates: the tailer still holds the old file but
    // cannot see the new one, whose lines it would silently never count.
    await unlink(via);
    await symlink(join(dir, 'not-a-dir'), via);
    await rename(join(real, 'app.log'), join(real, 'app.log.1'));
    await writeFile(join(real, 'app.log'), text(numbered('b', 5)));
    await appendFile(join(real, 'app.log.1'), text(numbered('a-late', 3))); // the held file is still read
    for (let i = 0; i < 5; i++) await within(t.caughtUp(), 5_000, 'a pass with the path unresolvable');
    await waitFor(() => sink.lines.length === 13, 'the late lines of the held file');
    expect(pool.errors.map((e) => (e as { code?: unknown }).code)).toEqual(['ENOTDIR']);
    expect(t.problemsReported).toBe(1);
    expect(t.readable).toBe(false);

    await unlink(via);
    await symlink(real, via);
    await waitFor(
      () => sink.lines.length === 18,
      'the successor',
      10_000,
      () => `${sink.lines.length} lines`,
    );
    await t.caughtUp();
    expect(t.readable).toBe(true);
    expect(t.problemsReported).toBe(1);
    expectExactly(sink.lines, [...numbered('a', 10), ...numbered('a-late', 3), ...numbered('b', 5)]);
  });
});
