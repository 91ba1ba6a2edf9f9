// A log writer in its own process for the tailer tests: it appends like a real service (O_APPEND descriptor,
// several lines per write) and rotates like logrotate (rename + create) while the tailer under test reads.
// Usage: node log-writer.mjs '<json plan>'; prints one JSON line with what it wrote.
//
// Plans:
//   { "mode": "late-rename", "path", "before", "lateMs", "newFileDelayMs", "intervalMs", "batch" }
//     writes `before` "A" lines, renames path -> path.1, keeps appending "A" lines to the renamed file (old
//     descriptor) for `lateMs`; after `newFileDelayMs` creates path and appends "B" lines to it until
//     max(lateMs, newFileDelayMs) + 300 ms.
//   { "mode": "rotate-load", "path", "total", "rotations", "batch", "pauseMs" }
//     writes `total` "L" lines in batches, renaming path -> path.<k> and creating a new path `rotations` times.
import { open, rename } from 'node:fs/promises';

const plan = JSON.parse(process.argv[2] ?? '{}');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pad = 'x'.repeat(72);
const line = (tag, seq) => `${tag} ${String(seq).padStart(7, '0')} ${pad}\n`;

async function writeBatch(fh, tag, from, count) {
  let s = '';
  for (let i = 0; i < count; i++) s += line(tag, from + i);
  await fh.write(s);
  return from + count;
}

async function lateRename() {
  const a = await open(plan.path, 'a');
  let na = 0;
  while (na < plan.before) na = await writeBatch(a, 'A', na, Math.min(plan.batch, plan.before - na));
  await rename(plan.path, `${plan.path}.1`);
  const t0 = Date.now();
  const until = Math.max(plan.lateMs, plan.newFileDelayMs) + 300;
  let b;
  let nb = 0;
  while (Date.now() - t0 < until) {
    const elapsed = Date.now() - t0;
    if (elapsed < plan.lateMs) na = await writeBatch(a, 'A', na, plan.batch);
    if (elapsed >= plan.newFileDelayMs) {
      b ??= await open(plan.path, 'a');
      nb = await writeBatch(b, 'B', nb, plan.batch);
    }
    await sleep(plan.intervalMs);
  }
  await a.close();
  await b?.close();
  return { A: na, B: nb };
}

async function rotateLoad() {
  const perFile = Math.ceil(plan.total / (plan.rotations + 1));
  let fh = await open(plan.path, 'a');
  let n = 0;
  let inFile = 0;
  let rotated = 0;
  while (n < plan.total) {
    if (inFile >= perFile && rotated < plan.rotations) {
      rotated++;
      await rename(plan.path, `${plan.path}.${rotated}`);
      const next = await open(plan.path, 'a');
      await fh.close();
      fh = next;
      inFile = 0;
    }
    const count = Math.min(plan.batch, plan.total - n, perFile - inFile);
    n = await writeBatch(fh, 'L', n, count);
    inFile += count;
    if (plan.pauseMs > 0) await sleep(plan.pauseMs);
  }
  await fh.close();
  return { L: n, rotations: rotated };
}

const result =
  plan.mode === 'late-rename' ? await lateRename() : plan.mode === 'rotate-load' ? await rotateLoad() : undefined;
if (!result) throw new Error(`unknown mode ${plan.mode}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
