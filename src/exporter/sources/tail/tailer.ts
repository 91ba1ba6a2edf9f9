/**
 * The FileTailer: follows one path through rotations. It decides which files are read (the current one, renamed
 * predecessors drained alongside it, copytruncate's copy, successors pinned at the path) and when; each file reads
 * its own lines (reader.ts). The public API is documented in ../tailer.ts.
 */
import { stat } from 'node:fs/promises';
import { errorCode, notRegularError, openRegular, pathExists } from './file.js';
import { ChangeDetector, isCopyOf } from './changes.js';
import { FileReader, type LineSink, type ReadContext } from './reader.js';
import { firstOpen, savedPosition, type SavedPosition } from './resume.js';
import { Triggers } from './triggers.js';

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

/** Upper bound of one cycle's reading of a file before the pump re-checks rotation/truncation. */
const MAX_BYTES_PER_CYCLE = 32 * 1024 * 1024;
/** A rotated file is abandoned after this many poll intervals without growth. */
const QUIET_INTERVALS = 2;
/** Successor files pinned at most (rotations faster than the quiet period). */
const MAX_PINNED = 16;

/** The renamed (or deleted) predecessor of the current file, drained alongside it until quiet. */
interface Draining {
  file: FileReader;
  /** epoch ms when the successor was adopted */
  since: number;
}

export class FileTailer {
  private readonly path: string;
  private readonly pathDotOne: string;
  private readonly opts: TailerOptions;
  private readonly pollMs: number;
  private readonly ctx: ReadContext;
  private readonly changes = new ChangeDetector();
  private readonly triggers: Triggers;

  private cur: FileReader | undefined;
  /** Previous files (renamed away or deleted), oldest first, each drained alongside `cur` until it has been quiet. */
  private draining: Draining[] = [];
  /** Files that appeared at `path` while `cur` was renamed away and MAX_PINNED predecessors were draining, oldest first. */
  private pinned: FileReader[] = [];
  /** A static copy (copytruncate's `path.1`) to read from its offset to its end before `cur`. */
  private copy: FileReader | undefined;
  /** When we first saw that `cur` was deleted with nothing at `path` (0 = not seen). */
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

  private _state: TailerState = 'starting';
  private _rotations = 0;

  constructor(opts: TailerOptions) {
    if (!Number.isInteger(opts.maxLineBytes) || opts.maxLineBytes < 1)
      throw new RangeError('maxLineBytes must be a positive integer');
    if (!(opts.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be > 0');
    this.opts = opts;
    this.path = opts.path;
    this.pathDotOne = `${opts.path}.1`;
    this.pollMs = opts.pollIntervalMs;
    this.ctx = { sink: opts.sink, maxLine: opts.maxLineBytes, bytesRead: 0, lastReadAt: 0 };
    this.triggers = new Triggers({
      path: opts.path,
      pollMs: opts.pollIntervalMs,
      watch: opts.watch !== false,
      cycle: () => this.cycle(),
      onError: opts.onError,
    });
  }

  get state(): TailerState {
    return this.notRegularAtPath && this._state !== 'closed' ? 'not-regular' : this._state;
  }
  get bytesRead(): number {
    return this.ctx.bytesRead;
  }
  get rotations(): number {
    return this._rotations;
  }
  get lastReadAt(): number {
    return this.ctx.lastReadAt;
  }
  get problemsReported(): number {
    return this.triggers.problemsReported;
  }
  get readable(): boolean {
    return this.state === 'open' && this.triggers.clean;
  }

  async start(): Promise<void> {
    if (this._state !== 'starting') throw new Error('FileTailer.start() called twice');
    this.startedAt = Date.now();
    this.triggers.arm();
    try {
      await this.openFirst(true);
    } catch (err) {
      this.triggers.report(err);
    }
    if (this.triggers.stopped) return;
    if (this._state === 'starting') this._state = this.cur ? 'open' : 'missing';
    this.triggers.startPolling();
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    await this.triggers.stop();
    // Final drain of what is already written. We do not switch to a pinned successor: the saved position keeps
    // naming the old file, and a restart finds it in `path.1` and reads it (and any late writes) before `path`.
    try {
      await this.finishCopy();
      const f = this.cur;
      if (f) {
        await f.fstat();
        if (f.size < f.readPos) await this.truncatedInPlace(f);
        await this.finishCopy();
        // what is written now, not a racing writer's future
        await this.readCurrent(f, Math.max(1, f.size - f.readPos));
      }
      await this.drainPredecessors(true);
    } catch (err) {
      this.triggers.report(err);
    }
    this.rememberPosition();
    const files = [this.cur, ...this.draining.map((d) => d.file), this.copy, ...this.pinned];
    this.cur = undefined;
    this.draining = [];
    this.copy = undefined;
    this.pinned = [];
    for (const f of files) await f?.close();
    this._state = 'closed';
    this.triggers.closed();
  }

  /** The position to save. Before the first file was opened it is the saved one (still pending), so it is kept. */
  position(): SavedPosition | undefined {
    this.rememberPosition();
    return this.lastPosition ?? (this.hadFile ? undefined : this.opts.resume);
  }

  lagBytes(): number {
    let lag = (this.cur?.lag() ?? 0) + (this.copy?.lag() ?? 0);
    for (const d of this.draining) lag += d.file.lag();
    for (const p of this.pinned) lag += p.size;
    return lag;
  }

  caughtUp(): Promise<void> {
    return this.triggers.caughtUp();
  }

  // ---------------------------------------------------------------- one pass

  /** One pass: read everything available, handle truncation and rotation. Returns true when caught up. */
  private async cycle(): Promise<boolean> {
    for (;;) {
      if (!this.cur && !this.hadFile) await this.openFirst(false);
      let f = this.cur;
      if (!f) {
        f = this.hadFile ? await this.tryOpen(this.path) : undefined;
        if (!f) {
          this._state = 'missing';
          return await this.drainPredecessors();
        }
        this.adoptNew(f);
      }
      await f.fstat();
      if (f.size < f.readPos) await this.truncatedInPlace(f);
      await this.finishCopy();
      const complete = await this.readCurrent(f, MAX_BYTES_PER_CYCLE);
      const predecessorsDone = await this.drainPredecessors();
      if (!complete) {
        this.triggers.again(); // more to read: come back after the waiters had their turn
        return false;
      }
      await this.pinSuccessor(f);
      if (this.pinned.length > 0) {
        if (this.draining.length < MAX_PINNED) {
          // `cur` was renamed away and a successor exists: read the successor now, drain `cur` alongside it
          this.draining.push({ file: f, since: Date.now() });
          this.cur = undefined;
          this.adoptNew(this.pinned.shift() as FileReader);
          continue;
        }
        // rotations faster than predecessors go quiet: `cur` keeps being read, its successors wait (pinned)
        return predecessorsDone && this.pinned.every((p) => p.size === 0);
      }
      if (!(f.nlink === 0 && !(await pathExists(this.path)))) {
        this.replacedSeenAt = 0;
        return predecessorsDone; // still the file at `path` (or renamed with no successor yet): keep holding it
      }
      // `cur` was deleted and nothing is at the path: drain it until quiet, then wait for the path to come back
      const now = Date.now();
      if (this.replacedSeenAt === 0) this.replacedSeenAt = now;
      if (now - Math.max(this.replacedSeenAt, f.lastDataAt) < QUIET_INTERVALS * this.pollMs) return predecessorsDone;
      f.finish();
      this.rememberPosition();
      this.cur = undefined;
      this.replacedSeenAt = 0;
      await f.close();
      this._state = 'missing';
      return predecessorsDone;
    }
  }

  /**
   * Reads the current file until EOF or `budget` bytes, each chunk checked for content replaced or cut in place
   * (which restarts or cuts the file, after reading copytruncate's copy). Returns true when EOF was reached.
   */
  private async readCurrent(f: FileReader, budget: number): Promise<boolean> {
    for (;;) {
      const end = await f.read(budget, this.changes.check);
      if (end === 'head') await this.restartReplaced(f);
      else if (end === 'tail') await this.truncatedInPlace(f);
      else return end === 'eof';
      await this.finishCopy();
    }
  }

  /**
   * Reads what each predecessor has now; closes one once it has been quiet for QUIET_INTERVALS poll intervals (its
   * unterminated last line is then delivered as it is). `final` (close()): read only what is written now, the saved
   * position keeps naming it. Returns true when all are read to their end (or there are none).
   */
  private async drainPredecessors(final = false): Promise<boolean> {
    let allComplete = true;
    for (const d of [...this.draining]) {
      const f = d.file;
      await f.fstat();
      const complete = (await f.read(final ? Math.max(1, f.size - f.readPos) : MAX_BYTES_PER_CYCLE)) === 'eof';
      allComplete &&= complete;
      if (!final && complete && Date.now() - Math.max(d.since, f.lastDataAt) >= QUIET_INTERVALS * this.pollMs) {
        f.finish();
        this.draining.splice(this.draining.indexOf(d), 1);
        await f.close();
      }
    }
    return allComplete;
  }

  // ---------------------------------------------------------------- opening

  /** The first open: the saved position or `startAt` (resume.ts); nothing changes while there is no file yet. */
  private async openFirst(atStart: boolean): Promise<void> {
    const first = await firstOpen({
      path: this.path,
      pathDotOne: this.pathDotOne,
      resume: this.opts.resume,
      startAt: this.opts.startAt,
      atStart,
      startedAt: this.startedAt,
      open: (p) => this.tryOpen(p),
    });
    if (!first) return;
    if (first.rotated) this._rotations++;
    if (first.draining) this.draining.push({ file: first.draining, since: Date.now() });
    this.copy = first.copy;
    this.adopt(first.cur);
    if (first.cur.readPos > 0) await this.changes.rememberBefore(first.cur);
  }

  /** Opens the regular file at `p`; undefined when there is none to read (missing, unreadable, or refused). */
  private async tryOpen(p: string): Promise<FileReader | undefined> {
    const atPath = p === this.path;
    try {
      const f = new FileReader(await openRegular(p), this.ctx);
      if (atPath) this.notRegularAtPath = false;
      return f;
    } catch (err) {
      if (atPath) this.notRegularAtPath = errorCode(err) === 'ENOTFILE';
      if (errorCode(err) !== 'ENOENT') this.triggers.report(err);
      return undefined;
    }
  }

  /** Makes `f` the current file. */
  private adopt(f: FileReader): void {
    this.cur = f;
    this.hadFile = true;
    this._state = 'open';
  }

  /** Makes a newly appeared file current, read from 0. */
  private adoptNew(f: FileReader): void {
    if (this.hadFile) this._rotations++;
    f.seek(0);
    this.adopt(f);
  }

  /** If another file than `cur` (and the pinned ones) is at `path`, open and pin it now, before it can be rotated away too. */
  private async pinSuccessor(f: FileReader): Promise<void> {
    for (const p of this.pinned) p.size = (await p.fh.stat()).size;
    let ino: number;
    try {
      const st = await stat(this.path);
      if (!st.isFile()) {
        // rotated to a FIFO or the like: refuse it (reported once) and keep reading `f`, which may still grow
        this.notRegularAtPath = true;
        this.triggers.report(notRegularError(this.path, st));
        return;
      }
      ino = st.ino;
    } catch (err) {
      // Nothing at the path (mid-rotation) is normal. Anything else (EACCES: the directory became unreadable) hides
      // a successor we cannot see: report it, or its lines would go uncounted without a word.
      if (errorCode(err) !== 'ENOENT') this.triggers.report(err);
      this.notRegularAtPath = false;
      return;
    }
    this.notRegularAtPath = false;
    const last = this.pinned[this.pinned.length - 1];
    if (ino === f.ino || (last && ino === last.ino) || this.pinned.length >= MAX_PINNED) return;
    const n = await this.tryOpen(this.path);
    if (!n) return;
    if (n.ino === f.ino || this.pinned.some((p) => p.ino === n.ino)) {
      await n.close();
      return;
    }
    this.pinned.push(n);
  }

  // ---------------------------------------------------------------- content replaced or cut in place

  /**
   * `f`'s content was replaced (copytruncate, or truncated and regrown past our position): restart it at 0. When
   * `path.1` is a copy of the old content, its unread tail is queued to be read first, from the end of our last
   * complete line, carrying on the line state there (an oversized line being skipped was already reported).
   */
  private async restartReplaced(f: FileReader): Promise<void> {
    this._rotations++;
    const copy = await this.tryOpen(this.pathDotOne);
    if (copy && isCopyOf(copy, f, f.head, f.offset)) {
      copy.seek(f.offset, f.skipping);
      await this.copy?.close();
      this.copy = copy;
    } else {
      await copy?.close();
    }
    await f.restart();
    this.changes.forget(f, 0);
  }

  /** `f` shrank below our read position, or the bytes before it changed: see ChangeDetector.truncation. */
  private async truncatedInPlace(f: FileReader): Promise<void> {
    await f.fstat();
    const t = await this.changes.truncation(f);
    if (t === 'replaced') return this.restartReplaced(f);
    if (t === 'unchanged') return;
    this._rotations++;
    this.changes.cut(f, t);
  }

  /** Reads the queued copy from its offset to its end (its unterminated last line delivered as it is), closes it. */
  private async finishCopy(): Promise<void> {
    const c = this.copy;
    if (!c) return;
    try {
      await c.read(Number.POSITIVE_INFINITY);
      c.finish();
    } finally {
      this.copy = undefined;
      await c.close();
    }
  }

  private rememberPosition(): void {
    if (this.cur)
      this.lastPosition = savedPosition(this.cur, this.copy ?? this.draining[this.draining.length - 1]?.file);
  }
}
