import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPositions, PositionsWriter, savePositions } from '../../src/sources/positions.js';
import type { SavedPosition } from '../../src/sources/tailer.js';
import { makeTempDir, removeDir } from './tail-helpers.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await removeDir(dir);
});

const pos = (inode: number, offset: number, head = Buffer.from('2025-11-27 first line').toString('base64')): SavedPosition => ({ inode, offset, head });

describe('loadPositions / savePositions', () => {
  it('round-trips, creating the directory, and leaves no temporary file behind', async () => {
    const file = join(dir, 'a', 'b', 'positions.json');
    const positions = { nginx: pos(12, 3456), app: pos(99, 0, ''), draining: { ...pos(7, 800), next: pos(8, 120) } };
    await savePositions(file, positions);
    expect(await loadPositions(file)).toEqual(positions);
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['positions.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, positions });
  });

  it('overwrites atomically: a reader sees the old or the new content, never a mix', async () => {
    const file = join(dir, 'positions.json');
    await savePositions(file, { a: pos(1, 1) });
    const inodeBefore = (await stat(file)).ino;
    await savePositions(file, { a: pos(1, 2) });
    expect((await stat(file)).ino).not.toBe(inodeBefore); // replaced by rename, not rewritten in place
    expect((await loadPositions(file)).a?.offset).toBe(2);
  });

  it('a missing file is an empty map without a warning (first start)', async () => {
    const warnings: string[] = [];
    expect(await loadPositions(join(dir, 'none.json'), (m) => warnings.push(m))).toEqual({});
    expect(warnings).toEqual([]);
  });

  it.each([
    ['not JSON', '{"version":1,"positions":{"a":'],
    ['wrong shape', '[1,2,3]'],
    ['wrong version', '{"version":7,"positions":{}}'],
    ['binary garbage', '\u0000\u0001\u00ff'],
  ])('a corrupt file (%s) is an empty map plus a warning, never a throw', async (_name, content) => {
    const file = join(dir, 'positions.json');
    await writeFile(file, content);
    const warnings: string[] = [];
    expect(await loadPositions(file, (m) => warnings.push(m))).toEqual({});
    expect(warnings).toHaveLength(1);
  });

  it('an unreadable path (a directory) is an empty map plus a warning', async () => {
    const file = join(dir, 'is-a-dir');
    await mkdir(file);
    const warnings: string[] = [];
    expect(await loadPositions(file, (m) => warnings.push(m))).toEqual({});
    expect(warnings).toHaveLength(1);
  });

  it('invalid entries are dropped one by one with a warning each; valid ones are kept', async () => {
    const file = join(dir, 'positions.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        positions: {
          good: pos(5, 10),
          negative: { inode: 5, offset: -1, head: '' },
          fraction: { inode: 5.5, offset: 1, head: '' },
          badHead: { inode: 5, offset: 1, head: '***' },
          longHead: { inode: 5, offset: 1, head: Buffer.alloc(65).toString('base64') },
          missing: { inode: 5 },
          badNext: { ...pos(5, 10), next: { inode: 6, offset: -3, head: '' } },
        },
      }),
    );
    const warnings: string[] = [];
    expect(await loadPositions(file, (m) => warnings.push(m))).toEqual({ good: pos(5, 10) });
    expect(warnings).toHaveLength(6);
  });
});

describe('PositionsWriter', () => {
  it('flush() writes what collect() returns; a source without a position keeps its last one', async () => {
    const file = join(dir, 'state', 'positions.json');
    let current: Record<string, SavedPosition | undefined> = { a: pos(1, 100), b: pos(2, 200) };
    const w = new PositionsWriter(file, 60_000, () => current);
    await w.flush();
    expect(await loadPositions(file)).toEqual({ a: pos(1, 100), b: pos(2, 200) });
    current = { a: pos(1, 150), b: undefined };
    await w.flush();
    expect(await loadPositions(file)).toEqual({ a: pos(1, 150), b: pos(2, 200) });
  });

  it('saves periodically once started, and a final time on stop()', async () => {
    const file = join(dir, 'positions.json');
    let offset = 1;
    const w = new PositionsWriter(file, 20, () => ({ a: pos(1, offset) }));
    w.start();
    const deadline = Date.now() + 10_000;
    while ((await loadPositions(file)).a?.offset !== 1) {
      if (Date.now() > deadline) throw new Error('no periodic save');
      await new Promise((r) => setTimeout(r, 10));
    }
    offset = 2;
    await w.stop();
    expect((await loadPositions(file)).a?.offset).toBe(2);
  });

  it('a failing save is a warning, not a rejection', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where a directory should be');
    const warnings: string[] = [];
    const w = new PositionsWriter(join(blocker, 'positions.json'), 60_000, () => ({ a: pos(1, 1) }), (m) => warnings.push(m));
    await expect(w.flush()).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});
