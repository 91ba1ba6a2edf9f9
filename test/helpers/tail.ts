/** Shared helpers for the tailer integration tests: temp dirs, a recording sink, polling waits, writers. */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { FileTailer, type LineSink, type TailerOptions } from '../../src/exporter/sources/tailer.js';

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'crm-tailer-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Creates a FIFO (named pipe) at `path` with mkfifo(1): Node has no API for it. */
export function makeFifo(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mkfifo', [path], (err, _stdout, stderr) =>
      err ? reject(new Error(`mkfifo ${path}: ${err.message}\n${stderr}`)) : resolve(),
    );
  });
}

/**
 * Releases a reader blocked in open() on the FIFO at `path` (code that opens without O_NONBLOCK): a writer's open
 * completes the reader's, and closing it gives the reader EOF. Without a waiting reader this fails with ENXIO: ignored.
 */
export async function releaseFifoReaders(path: string): Promise<void> {
  try {
    const fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    await fh.close();
  } catch {
    // no reader waiting, or no FIFO any more
  }
}

/** Rejects with `what` if `promise` has not settled within `ms` (turns a hang into a failing test). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Records every line (decoded, and optionally its raw bytes) and every oversized report. */
export class RecordingSink implements LineSink {
  readonly lines: string[] = [];
  readonly raw: Buffer[] = [];
  oversizedCount = 0;
  constructor(private readonly keepBytes = false) {}
  line(buf: Buffer, start: number, end: number): void {
    this.lines.push(buf.toString('utf8', start, end));
    if (this.keepBytes) this.raw.push(Buffer.from(buf.subarray(start, end)));
  }
  oversized(): void {
    this.oversizedCount++;
  }
}

/** Polls `cond` every 10 ms; fails with `what` (and the detail, if given) after `timeoutMs`. Never a fixed sleep. */
export async function waitFor(
  cond: () => boolean,
  what: string,
  timeoutMs = 20_000,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (${detail()})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The exact multiset check: same count, no duplicates, nothing missing. */
export function expectExactly(actual: readonly string[], expected: readonly string[]): void {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const l of actual) {
    if (seen.has(l)) dups.push(l);
    seen.add(l);
  }
  const missing = expected.filter((l) => !seen.has(l));
  const want = new Set(expected);
  const extra = actual.filter((l) => !want.has(l));
  expect({
    count: actual.length,
    duplicates: dups.slice(0, 5),
    missing: missing.slice(0, 5),
    extra: extra.slice(0, 5),
  }).toEqual({
    count: expected.length,
    duplicates: [],
    missing: [],
    extra: [],
  });
}

const PAD = 'x'.repeat(72);
/** The line format of log-writer.mjs (without the newline). */
export function writerLine(tag: string, seq: number): string {
  return `${tag} ${String(seq).padStart(7, '0')} ${PAD}`;
}

export function writerLines(tag: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => writerLine(tag, from + i));
}

/** Runs test/helpers/log-writer.mjs in a child process and returns the JSON it prints. */
export function runWriter(plan: Record<string, unknown>): Promise<Record<string, number>> {
  const script = fileURLToPath(new URL('./log-writer.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(plan)], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`log-writer failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim()) as Record<string, number>);
    });
  });
}

/** An in-process appender on an O_APPEND descriptor, like a service's log stream. */
export class Appender {
  private constructor(private readonly fh: FileHandle) {}
  static async open(path: string): Promise<Appender> {
    return new Appender(await open(path, 'a'));
  }
  async write(data: string | Buffer): Promise<void> {
    if (typeof data === 'string') await this.fh.write(data);
    else await this.fh.write(data);
  }
  async lines(lines: readonly string[]): Promise<void> {
    await this.fh.write(lines.map((l) => `${l}\n`).join(''));
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Creates tailers with test defaults and closes them all at the end of the test. */
export class TailerPool {
  private readonly tailers: FileTailer[] = [];
  readonly errors: Error[] = [];
  create(opts: Partial<TailerOptions> & Pick<TailerOptions, 'path' | 'sink'>): FileTailer {
    const t = new FileTailer({
      startAt: 'beginning',
      maxLineBytes: 64 * 1024,
      pollIntervalMs: 100,
      onError: (err) => this.errors.push(err),
      ...opts,
    });
    this.tailers.push(t);
    return t;
  }
  async closeAll(): Promise<void> {
    await Promise.all(this.tailers.splice(0).map((t) => t.close()));
  }
}

/** `tag-from` ... `tag-(from + count - 1)`. */
export function numbered(tag: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${from + i}`);
}

/** The lines, each with its "\n". */
export function linesText(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}
