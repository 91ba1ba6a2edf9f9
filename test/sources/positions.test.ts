import { appendFile, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter } from '../../src/exporter/main.js';
import { loadPositions, PositionsWriter, savePositions } from '../../src/exporter/sources/positions.js';
import type { SavedPosition } from '../../src/exporter/sources/tailer.js';
import { makeTempDir, RecordingSink, removeDir, TailerPool, waitFor } from '../helpers/tail.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await removeDir(dir);
});

const pos = (
  inode: number,
  offset: number,
  head = Buffer.from('2025-11-27 first line').toString('base64'),
): SavedPosition => ({ inode, offset, head });

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
  it('writes a served snapshot; a source without a position keeps its last one', async () => {
    const file = join(dir, 'state', 'positions.json');
    let current: Record<string, SavedPosition | undefined> = { a: pos(1, 100), b: pos(2, 200) };
    const w = new PositionsWriter(file, 60_000, () => current);
    await w.served(w.snapshot());
    expect(await loadPositions(file)).toEqual({ a: pos(1, 100), b: pos(2, 200) });
    current = { a: pos(1, 150), b: undefined };
    await w.served(w.snapshot());
    expect(await loadPositions(file)).toEqual({ a: pos(1, 150), b: pos(2, 200) });
  });

  it('writes nothing that was not served: flush() and stop() keep the last served snapshot, whatever the positions now', async () => {
    const file = join(dir, 'positions.json');
    let offset = 10;
    const w = new PositionsWriter(file, 20, () => ({ a: pos(1, offset) }));
    w.start();
    const taken = w.snapshot(); // a scrape reads its counters at offset 10
    offset = 20;
    await w.flush();
    expect(await loadPositions(file)).toEqual({});
    await w.served(taken); // ... and its answer is written whole
    expect((await loadPositions(file)).a?.offset).toBe(10);
    offset = 30;
    w.snapshot(); // a scrape whose answer never completes
    await new Promise((r) => setTimeout(r, 100)); // several intervals
    await w.stop();
    expect((await loadPositions(file)).a?.offset).toBe(10);
  });

  it('concurrent scrapes: an older snapshot served after a newer one does not move the file back', async () => {
    const file = join(dir, 'positions.json');
    let offset = 10;
    const w = new PositionsWriter(file, 60_000, () => ({ a: pos(1, offset) }));
    const slow = w.snapshot();
    offset = 20;
    const fast = w.snapshot();
    await w.served(fast);
    await w.served(slow);
    expect((await loadPositions(file)).a?.offset).toBe(20);
    // served in the order taken, each one moves it forward
    offset = 30;
    const third = w.snapshot();
    offset = 40;
    const fourth = w.snapshot();
    await Promise.all([w.served(third), w.served(fourth)]);
    expect((await loadPositions(file)).a?.offset).toBe(40);
  });

  it('saves baselines (sources that have counted nothing yet) every interval, over the served positions', async () => {
    const file = join(dir, 'positions.json');
    let baseline: Record<string, SavedPosition | undefined> = { fresh: pos(3, 500) };
    const w = new PositionsWriter(
      file,
      20,
      () => ({ a: pos(1, 10), fresh: pos(3, 500) }),
      undefined,
      () => baseline,
    );
    w.start();
    await expect.poll(async () => await loadPositions(file), { timeout: 10_000 }).toEqual({ fresh: pos(3, 500) });
    baseline = {}; // it counted a line: only a served scrape moves it now
    await w.served(w.snapshot());
    expect(await loadPositions(file)).toEqual({ a: pos(1, 10), fresh: pos(3, 500) });
    await w.stop();
  });

  it('a failing save is a warning, not a rejection', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where a directory should be');
    const warnings: string[] = [];
    const w = new PositionsWriter(
      join(blocker, 'positions.json'),
      60_000,
      () => ({ a: pos(1, 1) }),
      (m) => warnings.push(m),
    );
    await expect(w.flush()).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});

describe('a positions file of a newer version', () => {
  it('is neither used nor overwritten, and says so; once moved away, positions are saved again', async () => {
    const file = join(dir, 'positions.json');
    const newer = `${JSON.stringify({ version: 2, positions: { a: { ...pos(1, 99), generation: 7 } }, written_by: 'crm-exporter 9.0' })}\n`;
    await writeFile(file, newer);
    const warnings: string[] = [];
    expect(await loadPositions(file, (m) => warnings.push(m))).toEqual({});
    const w = new PositionsWriter(
      file,
      60_000,
      () => ({ a: pos(1, 5) }),
      (m) => warnings.push(m),
    );
    await w.served(w.snapshot());
    await w.served(w.snapshot());
    expect(await readFile(file, 'utf8')).toBe(newer);
    expect(warnings).toEqual([
      expect.stringContaining('was written by a newer crm-exporter (format version 2, this one reads 1)'),
      expect.stringContaining('not overwriting'),
    ]);
    await rename(file, `${file}.v2`);
    await w.flush();
    expect(await loadPositions(file)).toEqual({ a: pos(1, 5) });
  });
});

describe('source names are keys, not properties', () => {
  it('a __proto__ or constructor entry is an ordinary entry: no prototype change, nothing inherited', async () => {
    const file = join(dir, 'positions.json');
    await writeFile(
      file,
      `{"version":1,"positions":{"__proto__":${JSON.stringify(pos(7, 70))},"constructor":${JSON.stringify(pos(8, 80))}}}`,
    );
    const loaded = await loadPositions(file);
    expect(Object.keys(loaded).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value).toEqual(pos(7, 70));
    expect(loaded.constructor).toEqual(pos(8, 80));
    expect((loaded as Record<string, unknown>).inode).toBeUndefined(); // nothing reached through a prototype
    // A file without those names gives nothing for them either (not Object's constructor).
    await savePositions(file, { a: pos(1, 1) });
    expect((await loadPositions(file)).constructor).toBeUndefined();
  });

  it('the writer saves sources named __proto__ and constructor', async () => {
    const file = join(dir, 'positions.json');
    const current = Object.create(null) as Record<string, SavedPosition>;
    current['__proto__'] = pos(7, 70);
    current['constructor'] = pos(8, 80);
    const w = new PositionsWriter(file, 60_000, () => current);
    await w.served(w.snapshot());
    const loaded = await loadPositions(file);
    expect(Object.keys(loaded).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value).toEqual(pos(7, 70));
  });
});

describe('source names are keys through the whole exporter', () => {
  it('sources named __proto__ and constructor are saved by a scrape and resumed at the next start', async () => {
    const file = join(dir, 'positions.json');
    const config = (names: string[]) =>
      parseConfig({
        listen: '127.0.0.1:0',
        positions_file: file,
        logs: names.map((name) => ({ name, path: join(dir, `${name}.log`), format: 'nginx', start_at: 'beginning' })),
      });
    const names = ['__proto__', 'constructor'];
    for (const name of names)
      await writeFile(
        join(dir, `${name}.log`),
        '127.0.0.1 - - [27/Nov/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "t"\n',
      );
    const exporter = await startExporter(config(names), { log: () => undefined });
    await expect.poll(() => exporter.pipelines.map((p) => p.status().lines), { timeout: 10_000 }).toEqual([1, 1]);
    await (await fetch(`${exporter.url}/metrics`)).text();
    await exporter.close();
    const saved = await loadPositions(file);
    expect(Object.keys(saved).sort()).toEqual(names);
    for (const name of names)
      await appendFile(
        join(dir, `${name}.log`),
        '127.0.0.1 - - [27/Nov/2025:10:00:01 +0000] "GET /b HTTP/1.1" 200 5 "-" "t"\n',
      );
    const again = await startExporter(config(names), { log: () => undefined });
    try {
      // Resumed after the first line: only the new one is counted (read from 0, both would be, at once).
      await expect.poll(() => again.pipelines.map((p) => p.status().lines), { timeout: 10_000 }).toEqual([1, 1]);
    } finally {
      await again.close();
    }
  });
});

describe('file identity is device and inode', () => {
  let pool: TailerPool;
  beforeEach(() => {
    pool = new TailerPool();
  });
  afterEach(async () => {
    await pool.closeAll();
  });

  const lines = (from: number, to: number): string[] =>
    Array.from({ length: to - from }, (_, i) => `line ${from + i} of the access log`);

  async function resumeFrom(p: string, saved: SavedPosition, expected: number): Promise<string[]> {
    const sink = new RecordingSink();
    const t = pool.create({ path: p, sink, startAt: 'beginning', resume: saved });
    await t.start();
    await waitFor(
      () => sink.lines.length >= expected,
      `${expected} lines`,
      10_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
    return sink.lines;
  }

  it('positions record the device; a saved position on another device with the same inode is another file', async () => {
    const p = join(dir, 'app.log');
    await writeFile(p, `${lines(0, 10).join('\n')}\n`);
    const st = await stat(p);
    const sink = new RecordingSink();
    const first = pool.create({ path: p, sink });
    await first.start();
    await waitFor(() => sink.lines.length >= 10, '10 lines');
    await first.close();
    const saved = first.position() as SavedPosition;
    expect(saved).toMatchObject({ dev: st.dev, inode: st.ino, offset: st.size });

    // Same inode and same first bytes, but another device (a volume mounted over the directory): read from 0.
    expect(await resumeFrom(p, { ...saved, dev: st.dev + 1, offset: 100 }, 10)).toEqual(lines(0, 10));
    // The same device: resumed where it stopped (the control).
    await writeFile(p, `${lines(0, 12).join('\n')}\n`);
    expect(await resumeFrom(p, saved, 2)).toEqual(lines(10, 12));
    // A position saved before devices were recorded still resumes by inode.
    const { dev: _dev, ...withoutDevice } = saved;
    expect(await resumeFrom(p, withoutDevice, 2)).toEqual(lines(10, 12));
  });
});
