/**
 * One file of a glob source (logs/glob-pipeline.ts): the tailer of its path and, when the exporter was down
 * across a kubelet rotation, the tailer of the rotated predecessor `<path>.<timestamp>` read first from the saved
 * offset (the tailer itself only looks in `<path>.1`, where Docker's json-file and logrotate put it). I/O only.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FilePosition, FileTailer, SavedPosition } from './tailer.js';

const sameFile = (st: { dev: number; ino: number }, pos: FilePosition): boolean =>
  st.ino === pos.inode && (pos.dev === undefined || st.dev === pos.dev);

/** A kubelet-style rotated predecessor `<path>.*` (not compressed) that is the file `pos` names, if any. */
async function findRotated(path: string, pos: FilePosition): Promise<string | undefined> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || name.endsWith('.gz')) continue;
    const p = join(dirname(path), name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile() && sameFile(st, pos)) return p;
  }
  return undefined;
}

/** One file followed by a glob source: its tailer, and after a restart across a rotation its predecessor's. */
export class GlobFile {
  tailer: FileTailer | undefined;
  /** The rotated predecessor being read first after a restart (see findRotated), and where it stopped. */
  private pred: FileTailer | undefined;
  private predNext: FilePosition | undefined;
  private predEnd: SavedPosition | undefined;
  private closing = false;
  /** Resolves once the predecessor (if any) is read and the tailer of the path has made its first open attempt. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly key: string,
    readonly hadSaved: boolean,
    private readonly make: (path: string, startAt: 'end' | 'beginning', resume?: SavedPosition) => FileTailer,
    /** A tailer is done for good (its counters are to be kept as a sum). */
    private readonly retire: (t: FileTailer) => void,
    /** A problem outside the tailers (which report their own): logged, never thrown at the event loop. */
    private readonly report: (err: Error) => void,
  ) {}

  async start(startAt: 'end' | 'beginning', saved: SavedPosition | undefined): Promise<void> {
    if (saved) {
      const now = await stat(this.path).catch(() => undefined);
      if (!(now && !saved.next && sameFile(now, saved))) {
        const rotated = await findRotated(this.path, saved);
        if (rotated) {
          const next = saved.next && now && sameFile(now, saved.next) ? saved.next : undefined;
          this.ready = this.drainPredecessor(rotated, saved, next).catch((err: unknown) =>
            this.report(err instanceof Error ? err : new Error(String(err))),
          );
          return;
        }
      }
    }
    this.ready = this.startTailer(startAt, saved);
    await this.ready;
  }

  private async drainPredecessor(rotated: string, saved: SavedPosition, next?: FilePosition): Promise<void> {
    const { dev, inode, offset, head } = saved;
    this.predNext = next;
    const pred = this.make(
      rotated,
      'beginning',
      dev === undefined ? { inode, offset, head } : { dev, inode, offset, head },
    );
    this.pred = pred;
    await pred.start();
    await pred.caughtUp();
    await pred.close();
    this.predEnd = pred.position();
    this.retire(pred);
    this.pred = undefined;
    if (!this.closing) await this.startTailer('beginning', next);
  }

  private async startTailer(startAt: 'end' | 'beginning', resume?: SavedPosition): Promise<void> {
    const t = this.make(this.path, startAt, resume);
    this.tailer = t;
    await t.start();
  }

  position(): SavedPosition | undefined {
    if (this.pred) {
      const p = this.pred.position();
      return p && this.predNext ? { ...p, next: this.predNext } : p;
    }
    return this.tailer?.position() ?? this.predEnd;
  }

  get bytesRead(): number {
    return (this.tailer?.bytesRead ?? 0) + (this.pred?.bytesRead ?? 0);
  }

  async caughtUp(): Promise<void> {
    await this.ready;
    await this.tailer?.caughtUp();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pred?.close();
    await this.ready.catch(() => undefined);
    await this.tailer?.close();
  }
}
