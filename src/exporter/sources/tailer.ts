/**
 * A byte-offset log tailer (issue 2, item 5; design and measurements in docs/tailing.md).
 *
 * - Opens the path, then fstats the HELD descriptor: identity (inode) and size always come from the descriptor we read.
 * - Reads with one reused Buffer (`FileHandle.read`), splits lines with `Buffer.indexOf(10)`, decodes nothing: each
 *   complete line goes to the sink as a byte range. A partial last line stays in the buffer (carry) and is delivered
 *   once, when its newline arrives.
 * - Rename rotation: when another file appears at the path, it is opened (pinned) at once and read from offset 0
 *   straight away, while the old descriptor keeps being drained alongside (a writer may append to it until it
 *   reopens its log) until it has been quiet for 2 poll intervals. The saved position then names both files.
 * - copytruncate: the first (up to 64) bytes changed means "new content": restart at 0. When `path.1` holds a copy
 *   of the old content (same first bytes), its unread tail is read first.
 * - Truncation in place: size < read position, or changed bytes just before it, with the same first bytes: continue
 *   where the kept prefix ends, found with the last 64 KiB read (recent-bytes.ts), also after a regrowth.
 * - Only regular files are read: a FIFO, device or socket at the path is refused without being opened (state
 *   'not-regular', reported once), and every open is O_NONBLOCK, so nothing can block start(), a pass or close().
 * - fs.watch on the directory is the fast trigger, a poll every `pollIntervalMs` the safety net.
 * - Processing yields to the event loop at least every 64 KiB.
 */
import { constants, readSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { firstDifference, lineStart, RecentBytes, RECENT_BYTES } from './recent-bytes.js';

export interface LineSink {
  /** One complete line without its trailing "\n" (a trailing "\r" is also stripped). `buf` is reused after return: read synchronously, never keep it. */
  line(buf: Buffer, start: number, end: number): void;
  /** A line longer than maxLineBytes was skipped. */
  oversized(): void;
}

export interface FilePosition {
  /** Device of the file system holding it (absent in positions saved before it was recorded). */
  dev?: number;
  inode: number;
  offset: number;
  /** base64 of the file's first min(64, size) bytes at save time */
  head: string;
}

/**
 * Where a source stopped. Normally one file; while a renamed predecessor is still being drained, the position names
 * the predecessor and, in `next`, the file at the path that was being read alongside it.
 */
export interface SavedPosition extends FilePosition {
  next?: FilePosition;
}

/** `not-regular`: a FIFO, directory, device or socket is at the path; it is refused (never opened for reading). */
export type TailerState = 'starting' | 'open' | 'missing' | 'not-regular' | 'closed';

export interface TailerOptions {
  path: string;
  startAt: 'end' | 'beginning';
  maxLineBytes: number;
  pollIntervalMs: number;
  /** from the positions file */
  resume?: SavedPosition;
  sink: LineSink;
  /** non-fatal I/O problems (EACCES etc.); the tailer keeps retrying */
  onError?: (err: Error) => void;
  /** Use fs.watch as the fast trigger (default true). Tests turn it off to control exactly when the tailer looks. */
  watch?: boolean;
}

/** Bytes per read. */
const READ_BYTES = 256 * 1024;
/**
 * A read of bytes the last fstat already showed (a backlog of at least this much) is done synchronously: the data is
 * in the page cache, so a pread costs a copy, while an asynchronous read adds a thread-pool round trip per chunk.
 */
const SYNC_READ_MIN = 64 * 1024;
/** Processing yields to the event loop after at most this many bytes. */
const SLICE_BYTES = 64 * 1024;
/** First bytes remembered per file to recognise content replaced in place. */
export const HEAD_BYTES = 64;
/** Bytes just before the read position re-read after every read of the current file (see tailChanged). */
const TAIL_CHECK_BYTES = 64;
/** Upper bound of one cycle's reading before the pump re-checks rotation/truncation. */
const MAX_BYTES_PER_CYCLE = 32 * 1024 * 1024;
/** A rotated file is abandoned after this many poll intervals without growth. */
const QUIET_INTERVALS = 2;
/**
 * A file first opened after start() whose birth time is at most this much before start() counts as created after
 * it: file timestamps come from a coarse kernel clock (a tick behind), and such a file holds no history to skip.
 */
export const BIRTH_SLACK_MS = 50;
/** Successor files pinned at most (rotations faster than the quiet period). */
const MAX_PINNED = 16;

const NL = 10;
const CR = 13;

/**
 * O_NONBLOCK: opening a FIFO for reading would otherwise wait (in a libuv thread, forever) for a writer, and with it
 * start() and close(). It changes nothing for regular files. O_NOCTTY: a terminal never becomes our controlling one.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** What a non-regular file is, for the one log line that says why it is not read. */
function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegularError(p: string, st: Stats): Error {
  return Object.assign(
    new Error(`${p} is ${fileKind(st)}, not a regular file: not read until a regular file is there`),
    { code: 'ENOTFILE' },
  );
}

/** One open file: identity and sizes always from its descriptor. */
interface OpenFile {
  fh: FileHandle;
  dev: number;
  ino: number;
  /** size at the last fstat */
  size: number;
  nlink: number;
  /** next byte to read */
  readPos: number;
  /** end of the last complete line handed to the sink */
  offset: number;
  /** first min(HEAD_BYTES, size) bytes, extended as the file grows */
  head: Buffer;
  /** epoch ms of the last read on this file that returned data (or of opening it) */
  lastDataAt: number;
}

/** The renamed (or deleted) predecessor of the current file, drained alongside it until quiet. */
interface Draining {
  file: OpenFile;
  /** its partial last line and discard state while the shared buffer serves the current file */
  carry: Carry;
  /** epoch ms when the successor was adopted */
  since: number;
}

interface Carry {
  bytes: Buffer;
  discarding: boolean;
}

const NO_CARRY: Carry = { bytes: Buffer.alloc(0), discarding: false };

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function filePosition(f: OpenFile): FilePosition {
  return { dev: f.dev, inode: f.ino, offset: f.offset, head: f.head.toString('base64') };
}

/** Whether `f` is the file `pos` names: same inode on the same device (the inode alone repeats across devices). */
function isSavedFile(f: OpenFile, pos: FilePosition): boolean {
  return f.ino === pos.inode && (pos.dev === undefined || f.dev === pos.dev);
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

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

export class FileTailer {
  private readonly path: string;
  private readonly pathDotOne: string;
  private readonly opts: TailerOptions;
  private readonly sink: LineSink;
  private readonly maxLine: number;
  private readonly pollMs: number;

  /** The reused read buffer: bytes [0, fill) are file bytes [cur.offset, cur.readPos) (the carry). */
  private readonly buf: Buffer;
  private readonly headBuf = Buffer.alloc(HEAD_BYTES);
  /** The last bytes read from `cur`, to recognise a truncation in place (see truncatedInPlace). */
  private readonly recent = new RecentBytes();
  private readonly tailBuf = Buffer.alloc(TAIL_CHECK_BYTES);
  private fill = 0;
  /** Discarding an oversized (or, at start-up, unseen-beginning) line until its newline. */
  private discarding = false;

  private cur: OpenFile | undefined;
  /** Previous files (renamed away or deleted), oldest first, each drained alongside `cur` until it has been quiet. */
  private draining: Draining[] = [];
  /** Files that appeared at `path` while `cur` was renamed away and MAX_PINNED predecessors were draining, oldest first. */
  private pinned: OpenFile[] = [];
  /** A static copy (copytruncate's `path.1`) to read from its offset to its end before `cur`. */
  private copy: OpenFile | undefined;
  /** When we first saw that `cur` is no longer the file at `path` (0 = not seen). */
  private replacedSeenAt = 0;
  /**
   * Whether any file was ever opened (a later open is then a rotation). Until then the saved position and `startAt`
   * are pending: they apply to the first file opened, however late (volume mounted late, symlink created later).
   */
  private hadFile = false;
  /** Epoch ms of start(): a file born after it holds only new lines. */
  private startedAt = 0;
  /** The last look at `path` found a non-regular file there (state 'not-regular' until a look finds otherwise). */
  private notRegularAtPath = false;
  private lastPosition: SavedPosition | undefined;

  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wakeRequested = false;
  private stopped = false;
  private cycleWaiters: Array<(caughtUp: boolean) => void> = [];
  private lastErrorKey: string | undefined;
  private reportedThisCycle = false;
  private _problemsReported = 0;

  private _state: TailerState = 'starting';
  private _bytesRead = 0;
  private _rotations = 0;
  private _lastReadAt = 0;

  constructor(opts: TailerOptions) {
    if (!Number.isInteger(opts.maxLineBytes) || opts.maxLineBytes < 1)
      throw new RangeError('maxLineBytes must be a positive integer');
    if (!(opts.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be > 0');
    this.opts = opts;
    this.path = opts.path;
    this.pathDotOne = `${opts.path}.1`;
    this.sink = opts.sink;
    this.maxLine = opts.maxLineBytes;
    this.pollMs = opts.pollIntervalMs;
    // The carry never exceeds maxLineBytes + 1 (a line of max bytes plus a "\r" awaiting its "\n"), so there is
    // always room for a read of at least 64 KiB after it.
    this.buf = Buffer.allocUnsafe(Math.max(READ_BYTES, this.maxLine + 1 + SLICE_BYTES));
  }

  get state(): TailerState {
    return this.notRegularAtPath && this._state !== 'closed' ? 'not-regular' : this._state;
  }
  get bytesRead(): number {
    return this._bytesRead;
  }
  get rotations(): number {
    return this._rotations;
  }
  get lastReadAt(): number {
    return this._lastReadAt;
  }
  /** Problems handed to `onError` so far: each distinct problem once, until a clean pass (so one per log line). */
  get problemsReported(): number {
    return this._problemsReported;
  }
  /** Whether the file at the path is being read: open, and the last pass met no I/O problem (EACCES, FIFO, EIO ...). */
  get readable(): boolean {
    return this.state === 'open' && this.lastErrorKey === undefined;
  }

  async start(): Promise<void> {
    if (this._state !== 'starting') throw new Error('FileTailer.start() called twice');
    this.startedAt = Date.now();
    this.ensureWatch();
    try {
      await this.openFirst(true);
    } catch (err) {
      this.report(err);
    }
    if (this.stopped) return;
    if (this._state === 'starting') this._state = this.cur ? 'open' : 'missing';
    this.timer = setInterval(() => this.schedule(), this.pollMs);
    this.schedule();
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closeWatch();
    if (this.running) await this.running;
    // Final drain of what is already written. We do not switch to a pinned successor: the saved position keeps
    // naming the old file, and a restart finds it in `path.1` and reads it (and any late writes) before `path`.
    try {
      if (this.copy) await this.finishCopy();
      const f = this.cur;
      if (f) {
        await this.fstatCur(f);
        if (f.size < f.readPos) await this.truncatedInPlace(f);
        if (this.copy) await this.finishCopy();
        await this.readAvailable(f, Math.max(1, f.size - f.readPos), true); // what is written now, not a racing writer's future
      }
      await this.drainPredecessors(true);
    } catch (err) {
      this.report(err);
    }
    this.rememberPosition();
    const files = [this.cur, ...this.draining.map((d) => d.file), this.copy, ...this.pinned];
    this.cur = undefined;
    this.draining = [];
    this.copy = undefined;
    this.pinned = [];
    for (const f of files) if (f) await f.fh.close().catch(() => undefined);
    this._state = 'closed';
    for (const w of this.cycleWaiters.splice(0)) w(true);
  }

  /** The position to save. Before the first file was opened it is the saved one (still pending), so it is kept. */
  position(): SavedPosition | undefined {
    if (this.cur) this.rememberPosition();
    return this.lastPosition ?? (this.hadFile ? undefined : this.opts.resume);
  }

  lagBytes(): number {
    let lag = 0;
    if (this.cur) lag += Math.max(0, this.cur.size - this.cur.offset);
    if (this.copy) lag += Math.max(0, this.copy.size - this.copy.offset);
    for (const d of this.draining) lag += Math.max(0, d.file.size - d.file.offset);
    for (const p of this.pinned) lag += p.size;
    return lag;
  }

  async caughtUp(): Promise<void> {
    for (;;) {
      if (this._state === 'closed' || this.stopped) return;
      if (await this.nextCycle()) return;
      await delay(Math.max(1, Math.min(this.pollMs, 25)));
    }
  }

  // ---------------------------------------------------------------- pump

  private schedule(): void {
    this.wakeRequested = true;
    if (!this.running && !this.stopped) this.running = this.pump();
  }

  private nextCycle(): Promise<boolean> {
    return new Promise((resolve) => {
      this.cycleWaiters.push(resolve);
      this.schedule();
      if (this.stopped) resolve(true);
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.wakeRequested && !this.stopped) {
        this.wakeRequested = false;
        const waiters = this.cycleWaiters;
        this.cycleWaiters = [];
        let caughtUp = false;
        this.reportedThisCycle = false;
        try {
          caughtUp = await this.cycle();
        } catch (err) {
          this.report(err);
        }
        if (!this.reportedThisCycle) this.lastErrorKey = undefined; // a clean cycle: the next problem is news again
        for (const w of waiters) w(caughtUp);
      }
    } finally {
      this.running = undefined;
    }
  }

  /** One pass: read everything available, handle truncation and rotation. Returns true when caught up. */
  private async cycle(): Promise<boolean> {
    if (!this.watcher) this.ensureWatch();
    if (this.copy) await this.finishCopy();
    for (;;) {
      if (!this.cur && !this.hadFile) await this.openFirst(false);
      if (!this.cur) {
        const f = this.hadFile ? await this.tryOpen(this.path) : undefined;
        if (!f) {
          this._state = 'missing';
          return await this.drainPredecessors();
        }
        this.adoptNew(f);
      }
      const f = this.cur;
      if (!f) return true;
      await this.fstatCur(f);
      if (f.size < f.readPos) await this.truncatedInPlace(f);
      if (this.copy) await this.finishCopy();
      const complete = await this.readAvailable(f, MAX_BYTES_PER_CYCLE, true);
      const predecessorsDone = await this.drainPredecessors();
      if (!complete) {
        this.wakeRequested = true; // more to read: come back after the waiters had their turn
        return false;
      }
      await this.pinSuccessor(f);
      if (this.pinned.length > 0) {
        if (this.draining.length < MAX_PINNED) {
          // `cur` was renamed away and a successor exists: read the successor now, drain `cur` alongside it
          this.draining.push({ file: f, carry: this.takeCarry(), since: Date.now() });
          this.cur = undefined;
          this.adoptNew(this.pinned.shift() as OpenFile);
          continue;
        }
        // rotations faster than predecessors go quiet: `cur` keeps being read, its successors wait (pinned)
        return predecessorsDone && this.pinned.every((p) => p.size === 0);
      }
      if (!(f.nlink === 0 && !(await this.exists(this.path)))) {
        this.replacedSeenAt = 0;
        return predecessorsDone; // still the file at `path` (or renamed with no successor yet): keep holding it
      }
      // `cur` was deleted and nothing is at the path: drain it until quiet, then wait for the path to come back
      const now = Date.now();
      if (this.replacedSeenAt === 0) this.replacedSeenAt = now;
      if (now - Math.max(this.replacedSeenAt, f.lastDataAt) < QUIET_INTERVALS * this.pollMs) return predecessorsDone;
      this.finishFile(f);
      this.rememberPosition();
      this.cur = undefined;
      this.replacedSeenAt = 0;
      await f.fh.close().catch(() => undefined);
      this._state = 'missing';
      return predecessorsDone;
    }
  }

  /**
   * Reads what each predecessor has now, with its own carry in the shared buffer; closes one once it has been quiet
   * for QUIET_INTERVALS poll intervals (its unterminated last line is then delivered as it is). `final` (close()):
   * read only, the saved position keeps naming it. Returns true when all are read to their end (or there are none).
   */
  private async drainPredecessors(final = false): Promise<boolean> {
    if (this.draining.length === 0) return true;
    let allComplete = true;
    const own = this.takeCarry();
    try {
      for (const d of [...this.draining]) {
        this.putCarry(d.carry);
        try {
          await this.fstatCur(d.file);
          const complete = await this.readAvailable(
            d.file,
            final ? Math.max(1, d.file.size - d.file.readPos) : MAX_BYTES_PER_CYCLE,
            false,
          );
          allComplete &&= complete;
          if (
            !final &&
            complete &&
            Date.now() - Math.max(d.since, d.file.lastDataAt) >= QUIET_INTERVALS * this.pollMs
          ) {
            this.finishFile(d.file);
            this.draining.splice(this.draining.indexOf(d), 1);
            await d.file.fh.close().catch(() => undefined);
          }
        } finally {
          d.carry = this.takeCarry();
        }
      }
    } finally {
      this.putCarry(own);
    }
    return allComplete;
  }

  /** Takes the partial line (and discard state) out of the shared buffer, leaving it empty for another file. */
  private takeCarry(): Carry {
    const carry =
      this.fill === 0 && !this.discarding
        ? NO_CARRY
        : { bytes: Buffer.from(this.buf.subarray(0, this.fill)), discarding: this.discarding };
    this.fill = 0;
    this.discarding = false;
    return carry;
  }

  private putCarry(c: Carry): void {
    c.bytes.copy(this.buf, 0);
    this.fill = c.bytes.length;
    this.discarding = c.discarding;
  }

  // ---------------------------------------------------------------- opening

  /**
   * The first open, at start() and then on every pass until a file could be opened: applies the saved position
   * (after checking it describes the file found) or `startAt`. Opens nothing and changes nothing while there is no
   * file to read, so both stay pending for the next look.
   */
  private async openFirst(atStart: boolean): Promise<void> {
    await this.applyFirstOpen(atStart);
    if (this.cur && this.cur.readPos > 0) await this.rememberBefore(this.cur);
  }

  private async applyFirstOpen(atStart: boolean): Promise<void> {
    const resume = this.opts.resume;
    const f = await this.tryOpen(this.path);
    if (!resume) {
      if (!f) return;
      // a file created after start() holds only new lines; one that was there but out of reach (mounted late,
      // symlinked later) holds history, which `startAt: end` skips
      if (this.opts.startAt === 'end' && (atStart || !(await this.bornSinceStart(f)))) await this.seekToLastLineEnd(f);
      this.adopt(f);
      return;
    }
    if (resume.next && f && (await this.describes(f, resume.next))) {
      // saved while draining a renamed predecessor: resume the file at the path, and the predecessor if still in path.1
      f.readPos = f.offset = resume.next.offset;
      this.adopt(f);
      const prev = await this.tryOpen(this.pathDotOne);
      if (prev && prev.ino !== f.ino && (await this.describes(prev, resume))) {
        prev.readPos = prev.offset = resume.offset;
        this.draining.push({ file: prev, carry: NO_CARRY, since: Date.now() });
      } else if (prev) {
        await prev.fh.close();
      }
      return;
    }
    // Otherwise the newest file the position names is what we look for (the predecessor's rest is gone with it).
    const pos: FilePosition = resume.next ?? resume;
    if (f && (await this.describes(f, pos))) {
      f.readPos = f.offset = pos.offset;
      this.adopt(f);
      return;
    }
    // The file changed while we were down. Look for what we were reading in `path.1`.
    const prev = await this.tryOpen(this.pathDotOne);
    if (prev && (await this.describes(prev, pos))) {
      // renamed: drain it from the saved offset; `path` is pinned as its successor by the first cycle
      prev.readPos = prev.offset = pos.offset;
      this.adopt(prev);
      if (f) await f.fh.close();
      return;
    }
    if (!f) {
      // nothing to read yet: the saved position waits for the first file that can be opened
      if (prev) await prev.fh.close();
      return;
    }
    this._rotations++;
    if (
      prev &&
      isSavedFile(f, pos) &&
      prev.ino !== f.ino &&
      (await this.sameContent(prev, Buffer.from(pos.head, 'base64'), pos.offset))
    ) {
      // copytruncate while we were down: `path.1` is the copy, read its unread tail first
      prev.readPos = prev.offset = pos.offset;
      this.copy = prev;
    } else if (prev) {
      await prev.fh.close();
    }
    this.adopt(f);
  }

  /** Whether `f` was created after start() (birth time, where the filesystem records it; 0 = unknown, taken as "no"). */
  private async bornSinceStart(f: OpenFile): Promise<boolean> {
    const born = (await f.fh.stat()).birthtimeMs;
    return born > 0 && born >= this.startedAt - BIRTH_SLACK_MS;
  }

  /**
   * Opens `p` and fstats the held descriptor. Returns undefined when there is no regular file to read: missing,
   * unreadable, or refused. A non-regular file (FIFO, device, ...) is refused on what `stat` shows, without opening
   * it (opening a FIFO would also release a writer waiting for its reader); O_NONBLOCK and the fstat of the held
   * descriptor cover one swapped in between.
   */
  private async tryOpen(p: string): Promise<OpenFile | undefined> {
    const atPath = p === this.path;
    let fh: FileHandle;
    try {
      const st = await stat(p);
      if (!st.isFile()) throw notRegularError(p, st);
      fh = await open(p, OPEN_FLAGS);
    } catch (err) {
      if (atPath) this.notRegularAtPath = errorCode(err) === 'ENOTFILE';
      if (errorCode(err) !== 'ENOENT') this.report(err);
      return undefined;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notRegularError(p, st);
      const f: OpenFile = {
        fh,
        dev: st.dev,
        ino: st.ino,
        size: st.size,
        nlink: st.nlink,
        readPos: 0,
        offset: 0,
        head: Buffer.alloc(0),
        lastDataAt: Date.now(),
      };
      f.head = await this.readHead(f);
      if (atPath) this.notRegularAtPath = false;
      return f;
    } catch (err) {
      await fh.close().catch(() => undefined);
      if (atPath) this.notRegularAtPath = errorCode(err) === 'ENOTFILE';
      this.report(err);
      return undefined;
    }
  }

  /** startAt 'end': begin after the last complete line, so a line being written now is delivered once, whole. */
  private async seekToLastLineEnd(f: OpenFile): Promise<void> {
    if (f.size === 0) return;
    const want = Math.min(f.size, this.maxLine + 2);
    const tail = Buffer.allocUnsafe(want);
    const { bytesRead } = await f.fh.read(tail, 0, want, f.size - want);
    const nl = tail.subarray(0, bytesRead).lastIndexOf(NL);
    if (nl >= 0) {
      f.readPos = f.offset = f.size - want + nl + 1;
    } else if (want === f.size) {
      f.readPos = f.offset = 0; // one partial line, nothing complete yet: it is the line being written
    } else {
      // no newline within maxLineBytes of the end: whatever is there is oversized anyway, skip it silently
      f.readPos = f.offset = f.size;
      this.discarding = true;
    }
  }

  /** Makes `f` the current file (first file, or initial open). */
  private adopt(f: OpenFile): void {
    this.cur = f;
    this.hadFile = true;
    this._state = 'open';
  }

  /** Makes a newly appeared file current, read from 0. */
  private adoptNew(f: OpenFile): void {
    if (this.hadFile) this._rotations++;
    this.fill = 0;
    this.discarding = false;
    f.readPos = f.offset = 0;
    this.adopt(f);
  }

  private async exists(p: string): Promise<boolean> {
    try {
      await stat(p);
      return true;
    } catch {
      return false;
    }
  }

  /** If another file than `cur` (and the pinned ones) is at `path`, open and pin it now, before it can be rotated away too. */
  private async pinSuccessor(f: OpenFile): Promise<void> {
    for (const p of this.pinned) {
      const st = await p.fh.stat();
      p.size = st.size;
    }
    let st: Stats;
    try {
      st = await stat(this.path);
    } catch (err) {
      this.notRegularAtPath = false;
      // Nothing at the path (mid-rotation) is normal. Anything else (EACCES: the directory became unreadable) hides
      // a successor we cannot see: report it, or its lines would go uncounted without a word.
      if (errorCode(err) !== 'ENOENT') this.report(err);
      return;
    }
    const ino = st.ino;
    if (!st.isFile()) {
      // rotated to a FIFO or the like: refuse it (reported once) and keep reading `f`, which may still grow
      this.notRegularAtPath = true;
      this.report(notRegularError(this.path, st));
      return;
    }
    this.notRegularAtPath = false;
    const last = this.pinned[this.pinned.length - 1];
    if (ino === f.ino || (last && ino === last.ino) || this.pinned.length >= MAX_PINNED) return;
    const n = await this.tryOpen(this.path);
    if (!n) return;
    if (n.ino === f.ino || this.pinned.some((p) => p.ino === n.ino)) {
      await n.fh.close();
      return;
    }
    this.pinned.push(n);
  }

  // ---------------------------------------------------------------- truncation

  private async fstatCur(f: OpenFile): Promise<void> {
    const st = await f.fh.stat();
    f.size = st.size;
    f.nlink = st.nlink;
  }

  private async readHead(f: OpenFile): Promise<Buffer> {
    const n = Math.min(HEAD_BYTES, f.size);
    if (n === 0) return Buffer.alloc(0);
    const b = Buffer.alloc(n);
    const { bytesRead } = await f.fh.read(b, 0, n, 0);
    return b.subarray(0, bytesRead);
  }

  /** Whether `f` is the file `pos` was saved for, still holding that content. */
  private async describes(f: OpenFile, pos: FilePosition): Promise<boolean> {
    return isSavedFile(f, pos) && (await this.sameContent(f, Buffer.from(pos.head, 'base64'), pos.offset));
  }

  /** Whether `f` still holds the content described by `head` up to `offset`. */
  private async sameContent(f: OpenFile, head: Buffer, offset: number): Promise<boolean> {
    if (f.size < offset || f.size < head.length) return false;
    return f.head.subarray(0, head.length).equals(head);
  }

  /**
   * Whether the content of `f` was replaced in place (copytruncate): its first bytes are no longer the ones we saw.
   * This also catches a file that was truncated and regrew past our read position before we looked. While the file
   * is shorter than HEAD_BYTES the remembered head grows with it.
   */
  private async headChanged(f: OpenFile, sync = false): Promise<boolean> {
    const b = this.headBuf;
    const bytesRead = sync ? readSync(f.fh.fd, b, 0, HEAD_BYTES, 0) : (await f.fh.read(b, 0, HEAD_BYTES, 0)).bytesRead;
    const old = f.head;
    if (bytesRead < old.length || !b.subarray(0, old.length).equals(old)) return true;
    if (bytesRead > old.length) f.head = Buffer.from(b.subarray(0, bytesRead));
    return false;
  }

  /**
   * `f` was truncated (size below our read position, or changed first bytes): restart it at 0. When `path.1` is a
   * copy of the old content (copytruncate: same first bytes, another inode), its unread tail is queued to be read
   * first, from the end of our last complete line.
   */
  private async restartReplaced(f: OpenFile): Promise<void> {
    this._rotations++;
    const oldHead = f.head;
    const copy = await this.tryOpen(this.pathDotOne);
    if (
      copy &&
      copy.ino !== f.ino &&
      oldHead.length > 0 &&
      copy.size > f.offset &&
      (await this.sameContent(copy, oldHead, f.offset))
    ) {
      copy.readPos = copy.offset = f.offset;
      if (this.copy) await this.copy.fh.close();
      this.copy = copy;
    } else if (copy) {
      await copy.fh.close();
    }
    this.fill = 0;
    this.discarding = false;
    f.readPos = f.offset = 0;
    this.recent.reset(f, 0);
    f.head = await this.readHead(f);
    f.lastDataAt = Date.now();
  }

  /**
   * Whether the bytes just before our read position changed since we read them: the file was truncated in place to
   * a smaller size and regrew past our position before we looked (the head check cannot see that: the kept prefix
   * starts with the same bytes).
   */
  private async tailChanged(f: OpenFile, sync: boolean): Promise<boolean> {
    const seen = this.recent.window(f, f.readPos);
    const k = Math.min(TAIL_CHECK_BYTES, seen.length);
    if (k === 0 || f.readPos <= f.head.length) return false; // nothing remembered, or within the head check
    const b = this.tailBuf;
    const at = f.readPos - k;
    const bytesRead = sync ? readSync(f.fh.fd, b, 0, k, at) : (await f.fh.read(b, 0, k, at)).bytesRead;
    return bytesRead < k || !b.subarray(0, k).equals(seen.subarray(seen.length - k));
  }

  /**
   * `f` shrank below our read position, or the bytes before it changed. If its first bytes changed too, it is new
   * content (restartReplaced). Otherwise it was truncated in place, keeping a prefix of what we read, and may have
   * regrown: continue where the kept prefix ends. That is the new size when the file has not regrown; else the first
   * byte that differs from what we remember (RECENT_BYTES), moved back to the start of its line (a new line often
   * starts with the same bytes as the old one, e.g. a timestamp). When even the oldest remembered byte differs, the
   * kept prefix ends before what we remember and is read again from 0 (docs/tailing.md, limits).
   */
  private async truncatedInPlace(f: OpenFile): Promise<void> {
    await this.fstatCur(f);
    if (await this.headChanged(f)) return this.restartReplaced(f);
    const seen = this.recent.window(f, f.readPos);
    const winStart = f.readPos - seen.length;
    const cmpEnd = Math.min(f.size, f.readPos);
    let end = f.size;
    let discard = false;
    if (cmpEnd > winStart) {
      const now = Buffer.allocUnsafe(cmpEnd - winStart);
      const { bytesRead } = await f.fh.read(now, 0, now.length, winStart);
      const d = firstDifference(now.subarray(0, bytesRead), seen);
      if (d < 0) {
        if (winStart + bytesRead >= f.readPos) return; // nothing changed after all (same bytes written back)
        end = winStart + bytesRead; // truncated there, not regrown (yet)
      } else if (d === 0 && winStart > 0) {
        return this.restartReplaced(f);
      } else {
        const ls = lineStart(seen, d);
        if (winStart + d >= f.offset)
          end = f.offset; // inside the partial line we hold: a line can only start at offset
        else if (ls >= 0) end = winStart + ls;
        else if (winStart === 0) end = 0;
        else {
          end = winStart + d; // the line began before what we remember: skip its rest, never deliver a fragment
          discard = true;
        }
      }
    }
    this._rotations++;
    if (end > f.offset && end <= f.readPos) {
      // cut inside the partial line we hold: keep its kept part (nothing of it was delivered)
      if (!this.discarding) this.fill = end - f.offset;
    } else {
      f.offset = end;
      this.fill = 0;
      this.discarding = discard;
    }
    f.readPos = end;
    this.recent.cutTo(end);
    f.lastDataAt = Date.now();
  }

  /** After a jump to a saved offset (or startAt 'end'): remember the bytes before it, as if we had read them. */
  private async rememberBefore(f: OpenFile): Promise<void> {
    const from = Math.max(0, f.readPos - RECENT_BYTES);
    const b = Buffer.allocUnsafe(f.readPos - from);
    const { bytesRead } = await f.fh.read(b, 0, b.length, from);
    this.recent.reset(f, from);
    this.recent.append(f, from, b, 0, bytesRead);
  }

  /** Reads the queued copy from its offset to its end, then closes it. Keeps `cur`'s carry out of the way: `cur` was just reset. */
  private async finishCopy(): Promise<void> {
    const c = this.copy;
    if (!c) return;
    const savedFill = this.fill;
    const savedDiscarding = this.discarding;
    this.fill = 0;
    this.discarding = false;
    try {
      await this.readAvailable(c, Number.POSITIVE_INFINITY, false);
      this.finishFile(c);
    } finally {
      this.copy = undefined;
      await c.fh.close().catch(() => undefined);
      this.fill = savedFill;
      this.discarding = savedDiscarding;
    }
  }

  /** A file we leave for good: its unterminated last line is delivered as it is. */
  private finishFile(f: OpenFile): void {
    if (this.fill > 0 && !this.discarding) {
      let e = this.fill;
      if (this.buf[e - 1] === CR) e--;
      if (e > this.maxLine) this.sink.oversized();
      else this.sink.line(this.buf.subarray(0, this.fill), 0, e);
    }
    f.offset = f.readPos;
    this.fill = 0;
    this.discarding = false;
  }

  // ---------------------------------------------------------------- reading (hot path)

  /**
   * Reads `f` until EOF or `budget` bytes. Returns true when EOF was reached. With `verify`, every chunk is only
   * used after the file's first bytes were found unchanged AFTER the read: a chunk read after a truncation can then
   * never be taken for old content (it is dropped, and the file restarts at 0).
   */
  private async readAvailable(f: OpenFile, budget: number, verify: boolean): Promise<boolean> {
    const buf = this.buf;
    let total = 0;
    for (;;) {
      if (total >= budget) return false;
      // bytes the last fstat showed are read synchronously (see SYNC_READ_MIN), the rest (a racing writer) async
      const sync = f.size - f.readPos >= SYNC_READ_MIN;
      const n = sync
        ? readSync(f.fh.fd, buf, this.fill, buf.length - this.fill, f.readPos)
        : (await f.fh.read(buf, this.fill, buf.length - this.fill, f.readPos)).bytesRead;
      if (n === 0) return true;
      if (verify) {
        if (await this.headChanged(f, sync)) {
          await this.restartReplaced(f);
          if (this.copy) await this.finishCopy();
          continue;
        }
        if (await this.tailChanged(f, sync)) {
          await this.truncatedInPlace(f);
          if (this.copy) await this.finishCopy();
          continue;
        }
        this.recent.append(f, f.readPos, buf, this.fill, n);
      }
      total += n;
      this._bytesRead += n;
      const now = Date.now();
      this._lastReadAt = now;
      f.lastDataAt = now;
      if (f.readPos + n > f.size) f.size = f.readPos + n;
      await this.consume(f, n);
    }
  }

  /** Splits the buffer's `fill + n` bytes into lines, hands them to the sink, keeps the partial rest as carry. */
  private async consume(f: OpenFile, n: number): Promise<void> {
    const end = this.fill + n;
    const base = f.readPos - this.fill; // file offset of buf[0]
    f.readPos += n;
    const view = this.buf.subarray(0, end);
    const sink = this.sink;
    const max = this.maxLine;
    let pos = 0;
    if (this.discarding) {
      const nl = view.indexOf(NL, 0);
      if (nl < 0) {
        this.fill = 0; // still inside the skipped line: drop everything, memory stays bounded
        return;
      }
      this.discarding = false;
      pos = nl + 1;
      f.offset = base + pos;
    }
    for (;;) {
      pos = splitLines(view, pos, pos + SLICE_BYTES, max, sink);
      if (pos < 0) {
        pos = -pos - 1; // no further newline in the buffer
        break;
      }
      if (pos >= end) break;
      f.offset = base + pos;
      await yieldToLoop();
    }
    f.offset = base + pos;
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

  // ---------------------------------------------------------------- helpers

  private rememberPosition(): void {
    const f = this.cur;
    if (!f) return;
    const here = filePosition(f);
    // The file a restart can find in `path.1`: copytruncate's copy while its unread tail is being read (`cur` then
    // restarted at 0, so naming `cur` alone would lose that tail), else the newest predecessor being drained.
    const d = this.copy ?? this.draining[this.draining.length - 1]?.file;
    this.lastPosition = d ? { ...filePosition(d), next: here } : here;
  }

  private ensureWatch(): void {
    if (this.opts.watch === false || this.watcher || this.stopped) return;
    const name = basename(this.path);
    try {
      const w = watch(dirname(this.path), { persistent: true }, (_event, filename) => {
        if (filename === null || filename === undefined || String(filename).startsWith(name)) this.schedule();
      });
      w.on('error', () => {
        // e.g. the directory was removed: fall back to the poll, re-arm on a later cycle
        w.close();
        if (this.watcher === w) this.watcher = undefined;
      });
      this.watcher = w;
    } catch {
      this.watcher = undefined; // directory missing or watch unsupported: the poll covers it
    }
  }

  private closeWatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Reports an I/O problem once per distinct problem until a cycle succeeds again. */
  private report(err: unknown): void {
    this.reportedThisCycle = true;
    const e = asError(err);
    const key = `${errorCode(err) ?? ''}:${e.message}`;
    if (key === this.lastErrorKey) return;
    this.lastErrorKey = key;
    this._problemsReported++;
    try {
      this.opts.onError?.(e);
    } catch {
      // a throwing error handler must not stop the tailer
    }
  }
}
