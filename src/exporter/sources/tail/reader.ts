/**
 * One file being read, with its own line state: the partial last line (the carry) and whether an oversized line is
 * being skipped belong to the file they were read from. The current file, a renamed predecessor still being drained
 * and copytruncate's copy each have their own, so reading one never touches another's partial line.
 *
 * Reads go into the file's own Buffer (allocated at its first read, 256 KiB or more) at an explicit position; lines
 * are split with `Buffer.indexOf(10)` and handed to the sink as byte ranges, nothing is decoded. The unterminated rest
 * of a read stays at the start of the buffer and is completed by the next read of the same file.
 */
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { readHead, type FilePosition, type OpenedFile } from './file.js';

export interface LineSink {
  /** One complete line without its trailing "\n" (a trailing "\r" is also stripped). `buf` is reused after return: read synchronously, never keep it. */
  line(buf: Buffer, start: number, end: number): void;
  /** A line longer than maxLineBytes was skipped. */
  oversized(): void;
}

/** What every reader of one tailer shares: where lines go, the line limit, the tailer's counters. */
export interface ReadContext {
  readonly sink: LineSink;
  readonly maxLine: number;
  /** bytes read from files, cumulative */
  bytesRead: number;
  /** epoch ms of the last read that returned data */
  lastReadAt: number;
}

/** Checks a chunk just read, before it is used: undefined when the file is unchanged, else what changed. */
export type ChunkCheck = (
  r: FileReader,
  buf: Buffer,
  start: number,
  n: number,
  sync: boolean,
) => Promise<'head' | 'tail' | undefined>;

/** Why read() stopped: at the end of the file, at its byte budget, or because `check` found the file changed. */
export type ReadEnd = 'eof' | 'budget' | 'head' | 'tail';

/** Bytes per read. */
const READ_BYTES = 256 * 1024;
/**
 * A read of bytes the last fstat already showed (a backlog of at least this much) is done synchronously: the data is
 * in the page cache, so a pread costs a copy, while an asynchronous read adds a thread-pool round trip per chunk.
 */
const SYNC_READ_MIN = 64 * 1024;
/** Processing yields to the event loop after at most this many bytes. */
const SLICE_BYTES = 64 * 1024;

const NL = 10;
const CR = 13;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The hot loop, kept synchronous and small so it optimises well: hands every complete line starting before
 * `sliceEnd` to the sink. Returns the start of the first unprocessed line, or `-(start + 1)` when the buffer holds
 * no further newline (the rest is a partial line).
 */
function splitLines(view: Buffer, pos: number, sliceEnd: number, max: number, sink: LineSink): number {
  while (pos < sliceEnd) {
    const nl = view.indexOf(NL, pos);
    if (nl < 0) return -pos - 1;
    let e = nl;
    if (e > pos && view[e - 1] === CR) e--;
    if (e - pos > max) sink.oversized();
    else sink.line(view, pos, e);
    pos = nl + 1;
  }
  return pos;
}

export class FileReader {
  readonly fh: FileHandle;
  readonly dev: number;
  readonly ino: number;
  /** size at the last fstat (or larger, once a read returned more) */
  size: number;
  nlink: number;
  /** first min(HEAD_BYTES, size) bytes, extended as the file grows */
  head: Buffer;
  /** next byte to read */
  readPos = 0;
  /** end of the last complete line handed to the sink */
  offset = 0;
  /** epoch ms of the last read on this file that returned data (or of opening it) */
  lastDataAt = Date.now();

  private readonly ctx: ReadContext;
  /** bytes [0, fill) are file bytes [offset, readPos): the partial last line */
  private buf: Buffer | undefined;
  private fill = 0;
  /** Skipping an oversized (or, at start-up, unseen-beginning) line until its newline. */
  private discarding = false;

  constructor(f: OpenedFile, ctx: ReadContext) {
    this.fh = f.fh;
    this.dev = f.dev;
    this.ino = f.ino;
    this.size = f.size;
    this.nlink = f.nlink;
    this.head = f.head;
    this.ctx = ctx;
  }

  /** Where this file's reading stands, for the positions file. */
  position(): FilePosition {
    return { dev: this.dev, inode: this.ino, offset: this.offset, head: this.head.toString('base64') };
  }

  /** Bytes written to the file beyond the last complete line handed over. */
  lag(): number {
    return Math.max(0, this.size - this.offset);
  }

  /** Whether an oversized line is being skipped (it was reported; nothing of it is delivered). */
  get skipping(): boolean {
    return this.discarding;
  }

  async fstat(): Promise<void> {
    const st = await this.fh.stat();
    this.size = st.size;
    this.nlink = st.nlink;
  }

  /** Continues at `pos`, a line start, with no partial line; `skipping`: the line there was reported oversized. */
  seek(pos: number, skipping = false): void {
    this.readPos = this.offset = pos;
    this.fill = 0;
    this.discarding = skipping;
  }

  /** The content was replaced in place: read it again from 0, with its new first bytes. */
  async restart(): Promise<void> {
    this.seek(0);
    this.head = await readHead(this.fh, this.size);
    this.lastDataAt = Date.now();
  }

  /**
   * The file was cut at `end` (truncation in place): continue reading there. A cut inside the partial line we hold
   * keeps its kept part (nothing of it was delivered); otherwise `end` is a line start (`skipping`: not one, skip to
   * the next newline without delivering a fragment).
   */
  cutAt(end: number, skipping: boolean): void {
    if (end > this.offset && end <= this.readPos) {
      if (!this.discarding) this.fill = end - this.offset;
    } else {
      this.offset = end;
      this.fill = 0;
      this.discarding = skipping;
    }
    this.readPos = end;
    this.lastDataAt = Date.now();
  }

  /** startAt 'end': begin after the last complete line, so a line being written now is delivered once, whole. */
  async seekToLastLineEnd(): Promise<void> {
    if (this.size === 0) return;
    const want = Math.min(this.size, this.ctx.maxLine + 2);
    const tail = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.fh.read(tail, 0, want, this.size - want);
    const nl = tail.subarray(0, bytesRead).lastIndexOf(NL);
    if (nl >= 0) this.seek(this.size - want + nl + 1);
    else if (want === this.size)
      this.seek(0); // one partial line, nothing complete yet: it is the line being written
    else this.seek(this.size, true); // no newline within maxLineBytes of the end: oversized anyway, skip it silently
  }

  /** We leave this file for good: its unterminated last line is delivered as it is. */
  finish(): void {
    const buf = this.buf;
    if (buf && this.fill > 0 && !this.discarding) {
      let e = this.fill;
      if (buf[e - 1] === CR) e--;
      if (e > this.ctx.maxLine) this.ctx.sink.oversized();
      else this.ctx.sink.line(buf.subarray(0, this.fill), 0, e);
    }
    this.offset = this.readPos;
    this.fill = 0;
    this.discarding = false;
  }

  async close(): Promise<void> {
    this.buf = undefined;
    await this.fh.close().catch(() => undefined);
  }

  /**
   * Reads until EOF or `budget` bytes. With `check`, every chunk is used only after `check` found the file unchanged
   * AFTER the read: a chunk read after a truncation is then never taken for old content (it is dropped, and read()
   * returns what changed for the caller to handle).
   */
  async read(budget: number, check?: ChunkCheck): Promise<ReadEnd> {
    const ctx = this.ctx;
    // The carry never exceeds maxLineBytes + 1 (a line of max bytes plus a "\r" awaiting its "\n"), so there is
    // always room for a read of at least 64 KiB after it.
    const buf = (this.buf ??= Buffer.allocUnsafe(Math.max(READ_BYTES, ctx.maxLine + 1 + SLICE_BYTES)));
    let total = 0;
    for (;;) {
      if (total >= budget) return 'budget';
      // bytes the last fstat showed are read synchronously (see SYNC_READ_MIN), the rest (a racing writer) async
      const sync = this.size - this.readPos >= SYNC_READ_MIN;
      const n = sync
        ? readSync(this.fh.fd, buf, this.fill, buf.length - this.fill, this.readPos)
        : (await this.fh.read(buf, this.fill, buf.length - this.fill, this.readPos)).bytesRead;
      if (n === 0) return 'eof';
      if (check) {
        const changed = await check(this, buf, this.fill, n, sync);
        if (changed) return changed;
      }
      total += n;
      ctx.bytesRead += n;
      const now = Date.now();
      ctx.lastReadAt = now;
      this.lastDataAt = now;
      if (this.readPos + n > this.size) this.size = this.readPos + n;
      await this.consume(buf, n);
    }
  }

  /** Splits the buffer's `fill + n` bytes into lines, hands them to the sink, keeps the partial rest as carry. */
  private async consume(buf: Buffer, n: number): Promise<void> {
    const end = this.fill + n;
    const base = this.readPos - this.fill; // file offset of buf[0]
    this.readPos += n;
    const view = buf.subarray(0, end);
    const sink = this.ctx.sink;
    const max = this.ctx.maxLine;
    let pos = 0;
    if (this.discarding) {
      const nl = view.indexOf(NL, 0);
      if (nl < 0) {
        this.fill = 0; // still inside the skipped line: drop everything, memory stays bounded
        return;
      }
      this.discarding = false;
      pos = nl + 1;
      this.offset = base + pos;
    }
    for (;;) {
      pos = splitLines(view, pos, pos + SLICE_BYTES, max, sink);
      if (pos < 0) {
        pos = -pos - 1; // no further newline in the buffer
        break;
      }
      if (pos >= end) break;
      this.offset = base + pos;
      await yieldToLoop();
    }
    this.offset = base + pos;
    const rest = end - pos;
    if (rest > max + 1) {
      // longer than any acceptable line even before its newline: report once, discard until the newline
      sink.oversized();
      this.discarding = true;
      this.fill = 0;
    } else {
      if (pos > 0 && rest > 0) view.copyWithin(0, pos, end);
      this.fill = rest;
    }
  }
}
