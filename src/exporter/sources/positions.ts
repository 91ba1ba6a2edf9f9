/**
 * The positions file: per log source, the offsets whose lines were counted in the last /metrics answer served, so a
 * restarted exporter (SIGKILL or SIGTERM alike) counts again exactly the lines no scrape has reported
 * (docs/failure-modes.md, "Exactly once as Prometheus sees it").
 *
 * Format (JSON): `{ "version": 1, "positions": { "<source name>": { "dev": 2049, "inode": 123, "offset": 4567, "head": "<base64>" } } }`
 * (`dev`, the file's device, since the inode alone does not name a file across file systems; files written before it
 * was added have none, and then only the inode is compared).
 * While a renamed predecessor (or copytruncate's copy) is still being read, the entry names it and, under `"next"`,
 * the file at the path (`{ dev, inode, offset, head }` again).
 * Written atomically (temporary file in the same directory, fsync, rename, fsync of the directory), so a crash leaves
 * either the old or the new file, never a torn one. A file written by a newer version (a higher `version`) is
 * neither used nor overwritten: a downgrade must not destroy it (it is kept until the operator moves it away).
 * Source names are data, never property names of a plain object: `__proto__` or `constructor` are ordinary keys.
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HEAD_BYTES, type FilePosition, type SavedPosition } from './tailer.js';

const FORMAT_VERSION = 1;

/** Receives one human-readable line about a positions file that could not be used. */
export type PositionsWarning = (message: string) => void;

function isFilePosition(v: unknown): v is FilePosition {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    (o.dev === undefined || (Number.isSafeInteger(o.dev) && (o.dev as number) >= 0)) &&
    Number.isSafeInteger(o.inode) &&
    (o.inode as number) >= 0 &&
    Number.isSafeInteger(o.offset) &&
    (o.offset as number) >= 0 &&
    typeof o.head === 'string' &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(o.head) &&
    Buffer.from(o.head, 'base64').length <= HEAD_BYTES
  );
}

function isPosition(v: unknown): v is SavedPosition {
  return (
    isFilePosition(v) &&
    ((v as { next?: unknown }).next === undefined || isFilePosition((v as { next?: unknown }).next))
  );
}

const copyFilePosition = (p: FilePosition): FilePosition =>
  p.dev === undefined
    ? { inode: p.inode, offset: p.offset, head: p.head }
    : { dev: p.dev, inode: p.inode, offset: p.offset, head: p.head };

/** A map keyed by source name without a prototype: a name such as `__proto__` is just a key. */
function byName<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The `version` of a positions file written by a newer crm-exporter, or undefined (ours, missing, corrupt). */
function newerVersion(doc: unknown): number | undefined {
  const version = typeof doc === 'object' && doc !== null ? (doc as { version?: unknown }).version : undefined;
  return typeof version === 'number' && Number.isInteger(version) && version > FORMAT_VERSION ? version : undefined;
}

/** The newer version `file` holds, if any (read again before overwriting it). */
async function newerVersionOnDisk(file: string): Promise<number | undefined> {
  try {
    return newerVersion(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Loads the positions file. A missing file is the normal first start: empty, no warning. An unreadable or corrupt
 * file, or a bad entry, gives a warning and is ignored (those sources start fresh); this never throws.
 */
export async function loadPositions(
  file: string,
  onWarning?: PositionsWarning,
): Promise<Record<string, SavedPosition>> {
  const out = byName<SavedPosition>();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT')
      onWarning?.(`cannot read ${file}: ${(err as Error).message}; starting without saved positions`);
    return out;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    onWarning?.(`${file} is not valid JSON (${(err as Error).message}); starting without saved positions`);
    return out;
  }
  const newer = newerVersion(doc);
  if (newer !== undefined) {
    onWarning?.(
      `${file} was written by a newer crm-exporter (format version ${newer}, this one reads ${FORMAT_VERSION}); starting without saved positions, and the file is left untouched: positions are not saved while it is there`,
    );
    return out;
  }
  const positions = typeof doc === 'object' && doc !== null ? (doc as { positions?: unknown }).positions : undefined;
  if (
    typeof positions !== 'object' ||
    positions === null ||
    Array.isArray(positions) ||
    (doc as { version?: unknown }).version !== FORMAT_VERSION
  ) {
    onWarning?.(`${file} is not a version ${FORMAT_VERSION} positions file; starting without saved positions`);
    return out;
  }
  for (const [name, value] of Object.entries(positions as Record<string, unknown>)) {
    if (isPosition(value))
      out[name] = value.next
        ? { ...copyFilePosition(value), next: copyFilePosition(value.next) }
        : copyFilePosition(value);
    else onWarning?.(`${file}: ignoring invalid entry for ${JSON.stringify(name)}`);
  }
  return out;
}

/**
 * Distinguishes this process's temporary files from each other (two saves may overlap); the pid tells processes apart.
 * A counter, not random bytes: node:crypto would start OpenSSL in every exporter for a file name (bench/footprint.ts).
 */
let tmpSequence = 0;

/** Writes the positions file atomically, creating its directory if needed. */
export async function savePositions(file: string, positions: Record<string, SavedPosition>): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${(tmpSequence += 1)}.tmp`);
  const body = `${JSON.stringify({ version: FORMAT_VERSION, positions }, null, 2)}\n`;
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(body, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // make the rename itself durable; not every platform allows fsync on a directory
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}

/** Every source's position at one moment: taken in the synchronous step that read one scrape's counters. */
export interface PositionsSnapshot {
  /** Order of taking: a later snapshot's lines include every line of an earlier one. */
  readonly seq: number;
  readonly positions: Readonly<Record<string, SavedPosition | undefined>>;
}

/**
 * Keeps the positions file at the offsets of the last **served** scrape (docs/failure-modes.md, "Exactly once"):
 * `snapshot()` is taken in the synchronous step that reads a scrape's counters, and `served()` saves it once that
 * answer was written whole to the client. A snapshot taken later than one already saved wins; an earlier one served
 * later is ignored, so concurrent scrapes never move the file back. Nothing else advances it, in particular not the
 * lines counted since the last served scrape (a restart counts them again, from 0, which is what keeps Prometheus's
 * view exact), with one exception: `baseline()`, the positions of sources that have counted no line in this run
 * (where `start_at: end` put a first start, say), saved every `intervalMs` with any write that failed before.
 * Entries are merged over the previously written ones, so a source that has no position right now (file missing)
 * keeps its last one. Unchanged content is not rewritten.
 */
export class PositionsWriter {
  private readonly current = byName<SavedPosition>();
  private lastWritten: string | undefined;
  /** Whether the file on disk was found to be a newer version's (checked before the first write, then while so). */
  private newerChecked = false;
  private newerOnDisk: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** A write is queued behind the one in progress and has not started. */
  private queued = false;
  private taken = 0;
  /** The newest snapshot served so far (0: none). */
  private servedSeq = 0;
  /** Entries dropped by forget(), with the last snapshot taken before: older snapshots must not bring them back. */
  private readonly forgotten = new Map<string, number>();
  private _writeErrors = 0;
  /** Failed writes since the last one that succeeded (0 = the last write succeeded, or none was needed yet). */
  private failingFor = 0;

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
    /** Every source's position now (for snapshot()). */
    private readonly collect: () => Record<string, SavedPosition | undefined>,
    private readonly onWarning?: PositionsWarning,
    /** Positions that may be saved without a scrape: of sources that have counted nothing in this run. */
    private readonly baseline?: () => Record<string, SavedPosition | undefined>,
  ) {}

  /** Writes that failed so far (disk full, permission denied, ...). */
  get writeErrors(): number {
    return this._writeErrors;
  }

  /** Whether the last write succeeded (true before the first one). */
  get lastWriteOk(): boolean {
    return this.failingFor === 0;
  }

  /** The positions now. Call it in the same synchronous step that reads the counters the answer carries. */
  snapshot(): PositionsSnapshot {
    return { seq: ++this.taken, positions: this.collect() };
  }

  /**
   * The answer carrying `snapshot`'s counters reached the client: save it, unless a later snapshot was served
   * already. Never rejects.
   */
  served(snapshot: PositionsSnapshot): Promise<void> {
    if (snapshot.seq <= this.servedSeq) return this.chain;
    this.servedSeq = snapshot.seq;
    for (const [name, pos] of Object.entries(snapshot.positions)) {
      const before = this.forgotten.get(name);
      if (before !== undefined && snapshot.seq <= before) continue;
      if (pos) this.current[name] = pos;
    }
    // once a later snapshot is served, no earlier one can be: the marks have done their work
    for (const [name, before] of this.forgotten) if (before < this.servedSeq) this.forgotten.delete(name);
    return this.flush();
  }

  /**
   * Drops an entry for good (a glob's file that is gone and was read to its end: nothing is left to resume), from the
   * next write on; snapshots taken before this call no longer bring it back.
   */
  forget(name: string): void {
    delete this.current[name];
    this.forgotten.set(name, this.taken);
    void this.flush();
  }

  /** Starts the periodic save of baselines and retry of failed writes (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * Saves what was served (and the baselines) now, after any save in progress, if it differs from what was written.
   * Never rejects: a failed save is a warning and is retried at the next interval.
   */
  flush(): Promise<void> {
    // One write queued at most: it writes what is current when it starts, so scrapes faster than the disk
    // (one fsync per write) share it instead of queueing a write each.
    if (this.queued) return this.chain;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      return this.write();
    });
    return this.chain;
  }

  /** Stops the periodic save and writes a final time: what was served, never the positions reached since. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    try {
      if (this.baseline) for (const [name, pos] of Object.entries(this.baseline())) if (pos) this.current[name] = pos;
      const key = JSON.stringify(this.current);
      if (key === this.lastWritten) return;
      if (!this.newerChecked || this.newerOnDisk !== undefined) {
        const newer = await newerVersionOnDisk(this.file);
        if (newer !== undefined && this.newerOnDisk === undefined) {
          this.onWarning?.(
            `not overwriting ${this.file}: it was written by a newer crm-exporter (format version ${newer}); move it away to save positions again`,
          );
        }
        this.newerChecked = true;
        this.newerOnDisk = newer;
        if (newer !== undefined) return;
      }
      await savePositions(this.file, Object.assign(byName<SavedPosition>(), this.current));
      this.lastWritten = key;
      if (this.failingFor > 0)
        this.onWarning?.(
          `writing ${this.file} works again after ${this.failingFor} failed ${this.failingFor === 1 ? 'attempt' : 'attempts'}`,
        );
      this.failingFor = 0;
    } catch (err) {
      this._writeErrors++;
      // One line per episode, not one per interval: a full disk would otherwise log every positions_interval.
      if (this.failingFor++ === 0) {
        this.onWarning?.(
          `cannot write ${this.file}: ${(err as Error).message} (the file keeps the last positions written; retried every interval, further failures are not logged until a write succeeds)`,
        );
      }
    }
  }
}
