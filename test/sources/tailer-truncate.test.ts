/**
 * FileTailer and a file truncated in place to a smaller, non-empty size (issue 11, item A6). The kept prefix is what
 * was already read, so its lines must not be delivered again; new lines written after the truncation must all be
 * delivered, whole, also when the file regrew past the old read position before the tailer looked.
 * No fs.watch and a poll far away: the tailer looks only when caughtUp() asks it to.
 */
import { appendFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECENT_BYTES } from '../../src/exporter/sources/tail/recent-bytes.js';
import { expectExactly, makeTempDir, RecordingSink, removeDir, TailerPool } from '../helpers/tail.js';

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

/** Lines that start alike, as real log lines do (a timestamp): a new line shares its first bytes with the old one. */
const logLines = (tag: string, from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `2026-11-27T08:00:00.000Z GET /api/customers/${from + i} 200 ${tag}`);
const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');
const bytes = (lines: readonly string[]): number => Buffer.byteLength(text(lines));

async function reading(p: string, sink: RecordingSink) {
  const t = pool.create({ path: p, sink, pollIntervalMs: 600_000, watch: false });
  await t.start();
  await t.caughtUp();
  return t;
}

describe('FileTailer: truncation in place to a smaller size', () => {
  it('seen before it regrows: the kept lines are not delivered again, the new ones are', async () => {
    const p = join(dir, 'app.log');
    const old = logLines('gen1', 0, 100);
    await writeFile(p, text(old));
    const sink = new RecordingSink();
    const t = await reading(p, sink);
    expect(sink.lines).toHaveLength(100);

    await truncate(p, bytes(old.slice(0, 50)));
    await t.caughtUp();
    expect(sink.lines).toHaveLength(100);
    expect(t.position()?.offset).toBe(bytes(old.slice(0, 50)));
    await appendFile(p, text(logLines('gen2', 0, 30)));
    await t.caughtUp();
    expectExactly(sink.lines, [...old, ...logLines('gen2', 0, 30)]);
    expect(t.rotations).toBe(1);
  });

  it('regrown past the old read position before the tailer looks: no line lost, no fragment, none twice', async () => {
    const p = join(dir, 'app.log');
    const old = logLines('gen1', 0, 30);
    await writeFile(p, text(old));
    const sink = new RecordingSink();
    const t = await reading(p, sink);
    const oldSize = (await stat(p)).size;

    await truncate(p, bytes(old.slice(0, 15)));
    await appendFile(p, text(logLines('gen2', 0, 30)));
    expect((await stat(p)).size).toBeGreaterThan(oldSize);
    await t.caughtUp();
    expectExactly(sink.lines, [...old, ...logLines('gen2', 0, 30)]);
    expect(sink.oversizedCount).toBe(0);
    expect(t.rotations).toBe(1);
  });

  it('cut in the middle of a line: reading continues at the cut, with exactly what was written after it', async () => {
    const p = join(dir, 'app.log');
    const old = logLines('gen1', 0, 100);
    await writeFile(p, text(old));
    const sink = new RecordingSink();
    const t = await reading(p, sink);

    await truncate(p, bytes(old.slice(0, 60)) + 10); // 10 bytes of line 60 stay, already delivered with it
    await t.caughtUp();
    await appendFile(p, text(logLines('gen2', 0, 20)));
    await t.caughtUp();
    expectExactly(sink.lines, [...old, ...logLines('gen2', 0, 20)]);
  });

  it('cut inside the partial line not yet delivered: its kept part is completed by what follows', async () => {
    const p = join(dir, 'app.log');
    const old = logLines('gen1', 0, 40);
    await writeFile(p, `${text(old)}partial-line-abcdef`);
    const sink = new RecordingSink();
    const t = await reading(p, sink);
    expect(sink.lines).toHaveLength(40);

    await truncate(p, bytes(old) + 'partial-line'.length);
    await appendFile(p, `-xyz\n${text(logLines('gen2', 0, 5))}`);
    await t.caughtUp();
    expectExactly(sink.lines, [...old, 'partial-line-xyz', ...logLines('gen2', 0, 5)]);
  });

  it(`cut more than ${RECENT_BYTES / 1024} KiB before the read position and regrown past it: read again from 0, nothing lost (limit)`, async () => {
    const p = join(dir, 'app.log');
    const old = logLines('gen1', 0, 2000); // ~130 KiB
    await writeFile(p, text(old));
    const sink = new RecordingSink();
    const t = await reading(p, sink);
    expect(bytes(old.slice(100))).toBeGreaterThan(RECENT_BYTES);

    await truncate(p, bytes(old.slice(0, 100)));
    await appendFile(p, text(logLines('gen2', 0, 2000)));
    await t.caughtUp();
    expect(sink.oversizedCount).toBe(0);
    expect(sink.lines).toEqual([...old, ...old.slice(0, 100), ...logLines('gen2', 0, 2000)]);
  });
});
