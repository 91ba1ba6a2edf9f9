/**
 * The writer of bench:scrape's "busy" section (scrape-busy.ts), run as a worker thread so that its synchronous
 * appends never delay the bench's scrape client on the main thread.
 *
 * It appends pre-generated nginx lines in ~4 MiB writes of whole lines, as fast as it can, but never more than
 * `maxBacklogBytes` ahead of what the exporter has read (the main thread stores the exporter's
 * crm_log_bytes_read_total from each scrape into `shared[READ]`): so the exporter always has bytes waiting (it ingests
 * at the fastest rate it sustains) while the files on disk stay bounded. Every `rotateBytes` the log is renamed to
 * `<log>.1` (the previous `.1` removed; the exporter drains a renamed file through the descriptor it holds) and a new
 * log is created. Stops when `shared[STOP]` becomes 1 and posts what it wrote.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { nginxLines } from './gen-lines.js';

/** Indexes into the shared BigInt64Array. */
export const READ = 0;
export const STOP = 1;
export const WRITTEN = 2;
export const LINES = 3;
export const SHARED_SLOTS = 4;

export interface WriterData {
  log: string;
  shared: SharedArrayBuffer;
  /** Distinct lines generated once and written over and over. */
  distinctLines: number;
  maxBacklogBytes: number;
  rotateBytes: number;
}

export interface WriterResult {
  bytes: number;
  lines: number;
  rotations: number;
  /** Seconds spent in write(2) (the writer's own pace). */
  writeSeconds: number;
}

const PIECE_BYTES = 4 * 1024 * 1024;

/** The lines, cut into pieces of whole lines of about PIECE_BYTES each. */
function pieces(distinctLines: number): { buf: Buffer; lines: number }[] {
  const out: { buf: Buffer; lines: number }[] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const line of nginxLines(distinctLines, 11)) {
    batch.push(line);
    bytes += line.length + 1;
    if (bytes >= PIECE_BYTES) {
      out.push({ buf: Buffer.from(`${batch.join('\n')}\n`), lines: batch.length });
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) out.push({ buf: Buffer.from(`${batch.join('\n')}\n`), lines: batch.length });
  return out;
}

function run(data: WriterData): WriterResult {
  const shared = new BigInt64Array(data.shared);
  const all = pieces(data.distinctLines);
  let fd = openSync(data.log, 'a');
  let fileBytes = 0;
  let bytes = 0;
  let lines = 0;
  let rotations = 0;
  let writeNs = 0n;
  let next = 0;
  while (Atomics.load(shared, STOP) === 0n) {
    if (bytes - Number(Atomics.load(shared, READ)) >= data.maxBacklogBytes) {
      Atomics.wait(shared, STOP, 0n, 2); // far enough ahead: look again in 2 ms (or at once when told to stop)
      continue;
    }
    const piece = all[next] as { buf: Buffer; lines: number };
    next = (next + 1) % all.length;
    const t0 = process.hrtime.bigint();
    writeSync(fd, piece.buf);
    writeNs += process.hrtime.bigint() - t0;
    fileBytes += piece.buf.length;
    bytes += piece.buf.length;
    lines += piece.lines;
    Atomics.store(shared, WRITTEN, BigInt(bytes));
    Atomics.store(shared, LINES, BigInt(lines));
    if (fileBytes >= data.rotateBytes) {
      rmSync(`${data.log}.1`, { force: true });
      renameSync(data.log, `${data.log}.1`);
      closeSync(fd);
      fd = openSync(data.log, 'a');
      fileBytes = 0;
      rotations++;
    }
  }
  closeSync(fd);
  return { bytes, lines, rotations, writeSeconds: Number(writeNs) / 1e9 };
}

if (parentPort && workerData) parentPort.postMessage(run(workerData as WriterData));
