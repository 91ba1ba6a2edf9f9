/**
 * The positions file: where each log source stopped reading, so a restarted exporter counts every line once.
 *
 * Format (JSON): `{ "version": 1, "positions": { "<source name>": { "inode": 123, "offset": 4567, "head": "<base64>" } } }`.
 * While a renamed predecessor is still being drained, the entry names it and, under `"next"`, the file at the path
 * (`{ inode, offset, head }` again).
 * Written atomically (temporary file in the same directory, fsync, rename, fsync of the directory), so a crash leaves
 * either the old or the new file, never a torn one.
 */
import { randomBytes } from 'node:crypto';
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
  return isFilePosition(v) && ((v as { next?: unknown }).next === undefined || isFilePosition((v as { next?: unknown }).next));
}

const copyFilePosition = (p: FilePosition): FilePosition => ({ inode: p.inode, offset: p.offset, head: p.head });

/**
 * Loads the positions file. A missing file is the normal first start: empty, no warning. An unreadable or corrupt
 * file, or a bad entry, gives a warning and is ignored (those sources start fresh); this never throws.
 */
export async function loadPositions(file: string, onWarning?: PositionsWarning): Promise<Record<string, SavedPosition>> {
  const out: Record<string, SavedPosition> = {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') onWarning?.(`cannot read ${file}: ${(err as Error).message}; starting without saved positions`);
    return out;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    onWarning?.(`${file} is not valid JSON (${(err as Error).message}); starting without saved positions`);
    return out;
  }
  const positions = typeof doc === 'object' && doc !== null ? (doc as { positions?: unknown }).positions : undefined;
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions) || (doc as { version?: unknown }).version !== FORMAT_VERSION) {
    onWarning?.(`${file} is not a version ${FORMAT_VERSION} positions file; starting without saved positions`);
    return out;
  }
  for (const [name, value] of Object.entries(positions as Record<string, unknown>)) {
    if (isPosition(value)) out[name] = value.next ? { ...copyFilePosition(value), next: copyFilePosition(value.next) } : copyFilePosition(value);
    else onWarning?.(`${file}: ignoring invalid entry for ${JSON.stringify(name)}`);
  }
  return out;
}

/** Writes the positions file atomically, creating its directory if needed. */
export async function savePositions(file: string, positions: Record<string, SavedPosition>): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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

/**
 * Saves positions every `intervalMs` and on demand. Entries are merged over the previously written ones, so a source
 * that has no position right now (file missing) keeps its last one. Unchanged content is not rewritten.
 */
export class PositionsWriter {
  private readonly current: Record<string, SavedPosition> = {};
  private lastWritten: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private _writeErrors = 0;
  /** Failed writes since the last one that succeeded (0 = the last write succeeded, or none was needed yet). */
  private failingFor = 0;

  constructor(
    private readonly file: string,
    private readonly intervalMs: number,
    private readonly collect: () => Record<string, SavedPosition | undefined>,
    private readonly onWarning?: PositionsWarning,
  ) {}

  /** Writes that failed so far (disk full, permission denied, ...). */
  get writeErrors(): number {
    return this._writeErrors;
  }

  /** Whether the last write succeeded (true before the first one). */
  get lastWriteOk(): boolean {
    return this.failingFor === 0;
  }

  /** Starts the periodic save (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Saves now (after any save in progress). Never rejects: a failed save is a warning and is retried next time. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  /** Stops the periodic save and writes a final time. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    try {
      for (const [name, pos] of Object.entries(this.collect())) if (pos) this.current[name] = pos;
      const key = JSON.stringify(this.current);
      if (key === this.lastWritten) return;
      await savePositions(this.file, { ...this.current });
      this.lastWritten = key;
      if (this.failingFor > 0) this.onWarning?.(`writing ${this.file} works again after ${this.failingFor} failed ${this.failingFor === 1 ? 'attempt' : 'attempts'}`);
      this.failingFor = 0;
    } catch (err) {
      this._writeErrors++;
      // One line per episode, not one per interval: a full disk would otherwise log every positions_interval.
      if (this.failingFor++ === 0) {
        this.onWarning?.(`cannot write ${this.file}: ${(err as Error).message} (the file keeps the last positions written; retried every interval, further failures are not logged until a write succeeds)`);
      }
    }
  }
}
