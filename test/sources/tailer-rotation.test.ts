/**
 * Rotation, truncation and restart scenarios of the FileTailer as one table: the log's content before the tailer
 * starts (setup), what happens to the files (change), and the exact sequence of lines delivered (expected), on real
 * files in a fresh temporary directory. fs.watch is off and the poll far away unless a row says otherwise, so the
 * tailer looks only when a row calls `look()` (and once at the end): "before the tailer looks" is exact, and so is
 * the order of the lines. Partial lines are placed at each boundary: each belongs to the file it was written to.
 */
import { appendFile, copyFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadPositions, savePositions } from '../../src/exporter/sources/positions.js';
import type { FileTailer, SavedPosition, TailerOptions } from '../../src/exporter/sources/tailer.js';
import { RECENT_BYTES } from '../../src/exporter/sources/tail/recent-bytes.js';
import {
  Appender,
  linesText as text,
  makeTempDir,
  numbered,
  RecordingSink,
  removeDir,
  TailerPool,
  waitFor,
} from '../helpers/tail.js';

let dir: string;
let pool: TailerPool;
let appenders: Appender[];

beforeEach(async () => {
  dir = await makeTempDir();
  pool = new TailerPool();
  appenders = [];
});

afterEach(async () => {
  await pool.closeAll();
  for (const a of appenders) await a.close();
  await removeDir(dir);
});

/** Lines that start alike, as real log lines do (a timestamp): a new line shares its first bytes with the old one. */
const logLines = (tag: string, from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `2026-11-27T08:00:00.000Z GET /api/customers/${from + i} 200 ${tag}`);
const bytes = (lines: readonly string[]): number => Buffer.byteLength(text(lines));

/** The files of one row (names relative to the temp dir, `app.log` by default) and the tailer reading `app.log`. */
class Scene {
  readonly sink = new RecordingSink();
  tailer!: FileTailer;
  private rotationsBefore = 0;
  constructor(private readonly options: Partial<TailerOptions>) {}

  path(name = 'app.log'): string {
    return join(dir, name);
  }
  async start(resume?: SavedPosition, startAt: 'end' | 'beginning' = 'beginning'): Promise<void> {
    const opts = { pollIntervalMs: 600_000, watch: false, ...this.options };
    this.tailer = pool.create({ path: this.path(), sink: this.sink, startAt, resume, ...opts });
    await this.tailer.start();
  }
  /** One pass of the tailer (or more, until it found nothing left to read). */
  look(): Promise<void> {
    return this.tailer.caughtUp();
  }
  /** An O_APPEND writer on the file now at `name`, kept across renames (like a service's log stream). */
  async writer(name = 'app.log'): Promise<Appender> {
    const a = await Appender.open(this.path(name));
    appenders.push(a);
    return a;
  }
  write(content: string, name = 'app.log'): Promise<void> {
    return writeFile(this.path(name), content);
  }
  append(content: string, name = 'app.log'): Promise<void> {
    return appendFile(this.path(name), content);
  }
  rename(from: string, to: string): Promise<void> {
    return rename(this.path(from), this.path(to));
  }
  /** logrotate's copytruncate: copy to app.log.1, then truncate app.log in place. */
  async copytruncate(): Promise<void> {
    await copyFile(this.path(), this.path('app.log.1'));
    await truncate(this.path(), 0);
  }
  truncate(size: number): Promise<void> {
    return truncate(this.path(), size);
  }
  unlink(): Promise<void> {
    return unlink(this.path());
  }
  /**
   * An exporter restart: close the tailer, save its position through the positions file, run `whileDown`, start a
   * new tailer from the loaded position (with startAt 'end': a saved position wins) and let it make one pass.
   */
  async restart(whileDown: () => Promise<void> = async () => undefined): Promise<void> {
    await this.tailer.close();
    const positionsFile = join(dir, 'state', 'positions.json');
    await savePositions(positionsFile, { app: this.tailer.position()! });
    this.rotationsBefore += this.tailer.rotations;
    await whileDown();
    const saved = (await loadPositions(positionsFile)).app;
    expect(saved).toBeDefined();
    await this.start(saved, 'end');
    await this.look();
  }
  get rotations(): number {
    return this.rotationsBefore + this.tailer.rotations;
  }
}

interface Row {
  name: string;
  /** tailer options beyond the defaults (watch off, poll 10 min, maxLineBytes 64 KiB, startAt 'beginning') */
  options?: Partial<TailerOptions>;
  /** app.log before the tailer starts; the tailer reads it before `change` */
  setup: string;
  change: (s: Scene) => Promise<void>;
  /** every line delivered, in order */
  lines: string[];
  rotations: number;
  oversized?: number;
}

const rows: Row[] = [
  // ------------------------------------------------------------------ rename + create
  {
    name: 'rename: partial lines in the renamed file and in the new one, completed after the new file has lines',
    setup: `${text(numbered('a', 0, 10))}a-10-par`,
    async change(s) {
      const old = await s.writer();
      await s.rename('app.log', 'app.log.1');
      await s.write(`${text(numbered('b', 0, 2))}b-2-par`);
      await s.look(); // reads the new file while the renamed one is drained alongside, each holding its partial line
      await old.write(`tial\n${text(['a-11'])}`);
      await s.append('tial\nb-3\n');
    },
    lines: [...numbered('a', 0, 10), 'b-0', 'b-1', 'b-2-partial', 'b-3', 'a-10-partial', 'a-11'],
    rotations: 1,
  },
  {
    name: 'rename, the new file created later: the renamed file is held and read meanwhile',
    setup: text(numbered('a', 0, 5)),
    async change(s) {
      const old = await s.writer();
      await s.rename('app.log', 'app.log.1');
      await old.lines(numbered('a', 5, 3));
      await s.look();
      expect(s.tailer.state).toBe('open');
      await s.write(text(numbered('b', 0, 3)));
      await s.look();
      await old.lines(numbered('a', 8, 2));
    },
    lines: [...numbered('a', 0, 8), ...numbered('b', 0, 3), 'a-8', 'a-9'],
    rotations: 1,
  },
  {
    name: 'rotations faster than the quiet period: both renamed files drained alongside the newest, each with its partial line',
    setup: `${text(numbered('a', 0, 2))}a-2-p`,
    async change(s) {
      const a = await s.writer();
      await s.rename('app.log', 'app.log.1');
      await s.write(`${text(numbered('b', 0, 2))}b-2-p`);
      await s.look();
      const b = await s.writer();
      await s.rename('app.log', 'app.log.1'); // takes the first file's name: it lives on only through descriptors
      await s.write(`${text(numbered('c', 0, 2))}c-2-p`);
      await s.look();
      await a.write('art\n');
      await b.write('art\n');
      await s.append('art\n');
    },
    lines: ['a-0', 'a-1', 'b-0', 'b-1', 'c-0', 'c-1', 'c-2-part', 'a-2-part', 'b-2-part'],
    rotations: 2,
  },
  {
    name: "rename: the renamed file's unterminated last line is delivered as it is once the file has gone quiet",
    options: { pollIntervalMs: 50 },
    setup: `${text(numbered('a', 0, 3))}a-last`,
    async change(s) {
      await s.rename('app.log', 'app.log.1');
      await s.write(text(numbered('b', 0, 2)));
      await waitFor(() => s.sink.lines.includes('a-last'), "the renamed file's last line");
    },
    lines: ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'a-last'],
    rotations: 1,
  },
  // ------------------------------------------------------------------ delete + recreate
  {
    name: 'deleted and recreated before the tailer looks, with unread lines in the deleted file: both read completely',
    setup: text(numbered('first', 0, 10)),
    async change(s) {
      await s.append(text(numbered('first', 10, 90)));
      await s.unlink();
      await s.write(text(numbered('second', 0, 50)));
    },
    lines: [...numbered('first', 0, 100), ...numbered('second', 0, 50)],
    rotations: 1,
  },
  {
    name: 'deleted, recreated later: missing meanwhile, the unterminated last line delivered, the new file from 0',
    options: { pollIntervalMs: 50 },
    setup: `${text(numbered('first', 0, 5))}first-last`,
    async change(s) {
      await s.unlink();
      await waitFor(() => s.tailer.state === 'missing', "state 'missing'");
      await s.write(text(numbered('second', 0, 3)));
      await waitFor(() => s.sink.lines.length >= 9, '9 lines');
    },
    lines: [...numbered('first', 0, 5), 'first-last', ...numbered('second', 0, 3)],
    rotations: 1,
  },
  // ------------------------------------------------------------------ copytruncate
  {
    name: 'copytruncate, the writer continuing at once: the lines not yet read come from the copy in app.log.1',
    setup: text(numbered('before', 0, 100)),
    async change(s) {
      const w = await s.writer();
      await w.lines(numbered('before', 100, 50));
      await s.copytruncate();
      await w.lines(numbered('after', 0, 50));
    },
    lines: [...numbered('before', 0, 150), ...numbered('after', 0, 50)],
    rotations: 1,
  },
  {
    name: 'copytruncate while a partial line is held: the copy completes it, the new content starts clean',
    setup: `${text(numbered('before', 0, 10))}before-10-hal`,
    async change(s) {
      await s.append(`f\n${text(['before-11'])}before-12-end`);
      await s.copytruncate();
      await s.append(text(numbered('after', 0, 2)));
    },
    lines: [...numbered('before', 0, 10), 'before-10-half', 'before-11', 'before-12-end', 'after-0', 'after-1'],
    rotations: 1,
  },
  {
    name: 'copytruncate while an oversized line is being skipped: reported once, the lines after it read from the copy',
    options: { maxLineBytes: 100 },
    setup: `a-0\n${'X'.repeat(300)}`, // more than maxLineBytes + 1 without a newline: reported, skipped
    async change(s) {
      await s.append(`${'X'.repeat(50)}\n${text(['a-1', 'a-2'])}`);
      await s.copytruncate();
      await s.append(text(['b-0']));
    },
    lines: ['a-0', 'a-1', 'a-2', 'b-0'],
    rotations: 1,
    oversized: 1,
  },
  {
    name: "copytruncate with oversized lines in the copy's unread tail and in the new content",
    options: { maxLineBytes: 100 },
    setup: text(['a-0']),
    async change(s) {
      await s.append(`${'Y'.repeat(300)}\n${text(['a-1'])}`);
      await s.copytruncate();
      await s.append(`${'Z'.repeat(300)}\n${text(['b-0'])}`);
    },
    lines: ['a-0', 'a-1', 'b-0'],
    rotations: 1,
    oversized: 2,
  },
  {
    name: 'copytruncate and regrowth before the tailer looks: unread lines from the copy, its unterminated last line as it is',
    setup: text(numbered('gen1', 0, 100)),
    async change(s) {
      await s.append(`${text(numbered('gen1', 100, 50))}gen1-150-part`);
      await s.copytruncate();
      await s.append(text(numbered('generation2', 0, 200)));
    },
    lines: [...numbered('gen1', 0, 150), 'gen1-150-part', ...numbered('generation2', 0, 200)],
    rotations: 1,
  },
  // ------------------------------------------------------------------ truncation in place
  {
    name: 'truncated to 0, seen before it regrows',
    setup: text(numbered('gen1', 0, 100)),
    async change(s) {
      await s.truncate(0);
      await s.look();
      expect(s.tailer.position()?.offset).toBe(0);
      await s.append(text(numbered('gen2', 0, 30)));
    },
    lines: [...numbered('gen1', 0, 100), ...numbered('gen2', 0, 30)],
    rotations: 1,
  },
  {
    name: 'truncated to 0 while a partial line is held: the partial line goes with the old content',
    setup: `${text(numbered('gen1', 0, 10))}gen1-10-pa`,
    async change(s) {
      await s.truncate(0);
      await s.append(text(numbered('gen2', 0, 2)));
    },
    lines: [...numbered('gen1', 0, 10), 'gen2-0', 'gen2-1'],
    rotations: 1,
  },
  {
    name: 'truncated to 0 and regrown past the old size before the tailer looks: detected by the first bytes',
    setup: text(numbered('gen1', 0, 100)),
    async change(s) {
      const oldSize = (await stat(s.path())).size;
      await s.truncate(0);
      await s.append(text(numbered('generation2', 0, 150)));
      expect((await stat(s.path())).size).toBeGreaterThan(oldSize);
    },
    lines: [...numbered('gen1', 0, 100), ...numbered('generation2', 0, 150)],
    rotations: 1,
  },
  {
    name: 'truncated in place to a smaller size, seen before it regrows: the kept lines are not delivered again',
    setup: text(logLines('gen1', 0, 100)),
    async change(s) {
      await s.truncate(bytes(logLines('gen1', 0, 50)));
      await s.look();
      expect(s.tailer.position()?.offset).toBe(bytes(logLines('gen1', 0, 50)));
      await s.append(text(logLines('gen2', 0, 30)));
    },
    lines: [...logLines('gen1', 0, 100), ...logLines('gen2', 0, 30)],
    rotations: 1,
  },
  {
    name: 'truncated in place and regrown past the old read position before the tailer looks: no loss, no fragment',
    setup: text(logLines('gen1', 0, 30)),
    async change(s) {
      await s.truncate(bytes(logLines('gen1', 0, 15)));
      await s.append(text(logLines('gen2', 0, 30)));
      expect((await stat(s.path())).size).toBeGreaterThan(bytes(logLines('gen1', 0, 30)));
    },
    lines: [...logLines('gen1', 0, 30), ...logLines('gen2', 0, 30)],
    rotations: 1,
  },
  {
    name: 'cut in the middle of a delivered line: reading continues at the cut, with what was written after it',
    setup: text(logLines('gen1', 0, 100)),
    async change(s) {
      await s.truncate(bytes(logLines('gen1', 0, 60)) + 10); // 10 bytes of line 60 stay, delivered with it
      await s.look();
      await s.append(text(logLines('gen2', 0, 20)));
    },
    lines: [...logLines('gen1', 0, 100), ...logLines('gen2', 0, 20)],
    rotations: 1,
  },
  {
    name: 'cut inside the partial line not yet delivered: its kept part is completed by what follows',
    setup: `${text(logLines('gen1', 0, 40))}partial-line-abcdef`,
    async change(s) {
      await s.truncate(bytes(logLines('gen1', 0, 40)) + 'partial-line'.length);
      await s.append(`-xyz\n${text(logLines('gen2', 0, 5))}`);
    },
    lines: [...logLines('gen1', 0, 40), 'partial-line-xyz', ...logLines('gen2', 0, 5)],
    rotations: 1,
  },
  {
    name: `cut more than ${RECENT_BYTES / 1024} KiB before the read position and regrown past it: read again from 0 (limit)`,
    setup: text(logLines('gen1', 0, 2000)), // ~130 KiB
    async change(s) {
      expect(bytes(logLines('gen1', 100, 1900))).toBeGreaterThan(RECENT_BYTES);
      await s.truncate(bytes(logLines('gen1', 0, 100)));
      await s.append(text(logLines('gen2', 0, 2000)));
    },
    lines: [...logLines('gen1', 0, 2000), ...logLines('gen1', 0, 100), ...logLines('gen2', 0, 2000)],
    rotations: 1,
  },
  // ------------------------------------------------------------------ restart from the positions file
  {
    name: 'restart: the lines written while down are read once, the line half-written at shutdown whole',
    setup: text(numbered('run1', 0, 100)),
    async change(s) {
      await s.append('half-');
      await s.restart(() => s.append(`written\n${text(numbered('down', 0, 50))}`));
      await s.append(text(numbered('run2', 0, 20)));
    },
    lines: [...numbered('run1', 0, 100), 'half-written', ...numbered('down', 0, 50), ...numbered('run2', 0, 20)],
    rotations: 0,
  },
  {
    name: 'restart across a rename during the downtime: the rest of the old file from app.log.1, then the new file',
    setup: text(numbered('run1', 0, 100)),
    async change(s) {
      await s.restart(async () => {
        await s.append(text(numbered('down-old', 0, 30)));
        await s.rename('app.log', 'app.log.1');
        await s.write(text(numbered('down-new', 0, 40)));
      });
      await s.append(text(numbered('run2', 0, 10)));
    },
    lines: [
      ...numbered('run1', 0, 100),
      ...numbered('down-old', 0, 30),
      ...numbered('down-new', 0, 40),
      ...numbered('run2', 0, 10),
    ],
    rotations: 1,
  },
  {
    name: 'restart while the renamed file is still drained: both files resumed, the half line in the renamed one whole',
    setup: text(numbered('run1', 0, 100)),
    async change(s) {
      const old = await s.writer();
      await s.rename('app.log', 'app.log.1');
      await s.write(text(numbered('new', 0, 20)));
      await s.look();
      await old.lines(numbered('late', 0, 5));
      await s.look();
      await old.write('half-');
      await s.restart(async () => {
        await old.write('line\n');
        await old.lines(numbered('down-old', 0, 4));
        await s.append(text(numbered('down-new', 0, 6)));
      });
      await old.lines(numbered('run2-old', 0, 3));
      await s.append(text(numbered('run2-new', 0, 2)));
    },
    lines: [
      ...numbered('run1', 0, 100),
      ...numbered('new', 0, 20),
      ...numbered('late', 0, 5),
      ...numbered('down-new', 0, 6),
      'half-line',
      ...numbered('down-old', 0, 4),
      ...numbered('run2-new', 0, 2),
      ...numbered('run2-old', 0, 3),
    ],
    rotations: 1,
  },
  {
    name: 'restart across copytruncate during the downtime: the unread tail from the copy, then the file from 0',
    setup: text(numbered('run1', 0, 50)),
    async change(s) {
      await s.restart(async () => {
        await s.append(text(numbered('down-old', 0, 30)));
        await s.copytruncate();
        await s.append(text(numbered('down-new', 0, 20)));
      });
    },
    lines: [...numbered('run1', 0, 50), ...numbered('down-old', 0, 30), ...numbered('down-new', 0, 20)],
    rotations: 1,
  },
  {
    name: 'restart after the saved file went away (not in app.log.1): the file at the path from 0',
    setup: text(numbered('run1', 0, 50)),
    async change(s) {
      await s.restart(async () => {
        await s.rename('app.log', 'elsewhere.log');
        await s.write(text(numbered('fresh', 0, 60)));
      });
    },
    lines: [...numbered('run1', 0, 50), ...numbered('fresh', 0, 60)],
    rotations: 1,
  },
];

it.each(rows)('$name', async (row) => {
  const s = new Scene(row.options ?? {});
  await s.write(row.setup);
  await s.start();
  await s.look();
  await row.change(s);
  await s.look();
  expect(s.sink.lines).toEqual(row.lines);
  expect({ rotations: s.rotations, oversized: s.sink.oversizedCount, lagBytes: s.tailer.lagBytes() }).toEqual({
    rotations: row.rotations,
    oversized: row.oversized ?? 0,
    lagBytes: 0,
  });
  expect(pool.errors).toEqual([]);
});
