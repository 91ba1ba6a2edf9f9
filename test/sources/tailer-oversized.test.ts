/**
 * A 50 MB line with a 64 KiB limit: skipped, reported once, the following lines still counted, and the tailer never
 * buffers the line (RSS must not grow by anything like 50 MB). Its own file so that the RSS reading is not disturbed
 * by the other tailer tests (vitest runs each file in its own worker).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Appender, makeTempDir, RecordingSink, removeDir, TailerPool, waitFor } from '../helpers/tail.js';

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

const MiB = 1024 * 1024;

it('a 50 MB line over maxLineBytes (64 KiB) is skipped with bounded memory and reported once', async () => {
  const p = join(dir, 'app.log');
  const w = await Appender.open(p);
  await w.write('before\n');
  const sink = new RecordingSink();
  const t = pool.create({ path: p, sink, maxLineBytes: 64 * 1024, pollIntervalMs: 50 });
  await t.start();
  await waitFor(() => sink.lines.length >= 1, 'the first line');

  const chunk = Buffer.alloc(MiB, 0x61); // one reused chunk: the test itself must not allocate 50 MB either
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    for (let i = 0; i < 50; i++) {
      await w.write(chunk);
      if (i % 10 === 9) await t.caughtUp(); // let the tailer work through it while it is being written
    }
    await w.write('\nafter 1\r\nafter 2\n');
    await w.close();
    await waitFor(
      () => sink.lines.length >= 3,
      '3 lines',
      20_000,
      () => `${sink.lines.length}`,
    );
    await t.caughtUp();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);

  expect(sink.lines).toEqual(['before', 'after 1', 'after 2']);
  expect(sink.oversizedCount).toBe(1);
  expect(t.bytesRead).toBeGreaterThan(50 * MiB);
  // the line is 50 MiB; the tailer's own buffer is 256 KiB. Allow for allocator/GC noise, not for the line.
  expect((peak - baseline) / MiB).toBeLessThan(20);
});
