/**
 * Recognising content replaced or cut in place in the current file (copytruncate, truncate, a writer that rewinds):
 * the file keeps its inode, so the check is by size and bytes (docs/tailing.md, "copytruncate" and "Truncation in
 * place").
 *
 * - First bytes changed (re-read after every read): new content, read again from 0 (`'replaced'`).
 * - Size below the read position, or the bytes just before it changed, with the same first bytes: truncated in place,
 *   keeping a prefix of what we read, maybe regrown: continue where the kept prefix ends (`Cut`), found with the last
 *   64 KiB read (recent-bytes.ts).
 */
import { readSync } from 'node:fs';
import { HEAD_BYTES, sameContent } from './file.js';
import type { FileReader } from './reader.js';
import { firstDifference, lineStart, RecentBytes, RECENT_BYTES } from './recent-bytes.js';

/** Bytes just before the read position re-read after every read of the current file (see tailChanged). */
const TAIL_CHECK_BYTES = 64;

/** Where a file truncated in place continues: `end`; `skipping` when `end` is inside a line whose start is unknown. */
export interface Cut {
  end: number;
  skipping: boolean;
}

export class ChangeDetector {
  private readonly headBuf = Buffer.alloc(HEAD_BYTES);
  private readonly tailBuf = Buffer.alloc(TAIL_CHECK_BYTES);
  /** The last bytes read from the current file, to recognise a truncation in place. */
  private readonly recent = new RecentBytes();

  /** The ChunkCheck of the current file: head, then the bytes before the read position; remembers a good chunk. */
  readonly check = async (
    f: FileReader,
    buf: Buffer,
    start: number,
    n: number,
    sync: boolean,
  ): Promise<'head' | 'tail' | undefined> => {
    if (await this.headChanged(f, sync)) return 'head';
    if (await this.tailChanged(f, sync)) return 'tail';
    this.recent.append(f, f.readPos, buf, start, n);
    return undefined;
  };

  /**
   * Whether the content of `f` was replaced in place (copytruncate): its first bytes are no longer the ones we saw.
   * This also catches a file that was truncated and regrew past our read position before we looked. While the file
   * is shorter than HEAD_BYTES the remembered head grows with it.
   */
  private async headChanged(f: FileReader, sync = false): Promise<boolean> {
    const b = this.headBuf;
    const bytesRead = sync ? readSync(f.fh.fd, b, 0, HEAD_BYTES, 0) : (await f.fh.read(b, 0, HEAD_BYTES, 0)).bytesRead;
    const old = f.head;
    if (bytesRead < old.length || !b.subarray(0, old.length).equals(old)) return true;
    if (bytesRead > old.length) f.head = Buffer.from(b.subarray(0, bytesRead));
    return false;
  }

  /**
   * Whether the bytes just before our read position changed since we read them: the file was truncated in place to
   * a smaller size and regrew past our position before we looked (the head check cannot see that: the kept prefix
   * starts with the same bytes).
   */
  private async tailChanged(f: FileReader, sync: boolean): Promise<boolean> {
    const seen = this.recent.window(f, f.readPos);
    const k = Math.min(TAIL_CHECK_BYTES, seen.length);
    if (k === 0 || f.readPos <= f.head.length) return false; // nothing remembered, or within the head check
    const b = this.tailBuf;
    const at = f.readPos - k;
    const bytesRead = sync ? readSync(f.fh.fd, b, 0, k, at) : (await f.fh.read(b, 0, k, at)).bytesRead;
    return bytesRead < k || !b.subarray(0, k).equals(seen.subarray(seen.length - k));
  }

  /** `f` starts over at `pos`: nothing before it is remembered. */
  forget(f: FileReader, pos: number): void {
    this.recent.reset(f, pos);
  }

  /** After a jump to a saved offset (or startAt 'end'): remember the bytes before it, as if we had read them. */
  async rememberBefore(f: FileReader): Promise<void> {
    const from = Math.max(0, f.readPos - RECENT_BYTES);
    const b = Buffer.allocUnsafe(f.readPos - from);
    const { bytesRead } = await f.fh.read(b, 0, b.length, from);
    this.recent.reset(f, from);
    this.recent.append(f, from, b, 0, bytesRead);
  }

  /**
   * `f` (just fstat'ed) shrank below our read position, or the bytes before it changed. If its first bytes changed
   * too, it is new content: `'replaced'`. Otherwise it was truncated in place, keeping a prefix of what we read, and
   * may have regrown: the Cut says where the kept prefix ends. That is the new size when the file has not regrown;
   * else the first byte that differs from what we remember (RECENT_BYTES), moved back to the start of its line (a new
   * line often starts with the same bytes as the old one, e.g. a timestamp). When even the oldest remembered byte
   * differs, the kept prefix ends before what we remember: `'replaced'`, read again from 0 (docs/tailing.md, limits).
   * `'unchanged'`: the same bytes were written back.
   */
  async truncation(f: FileReader): Promise<Cut | 'replaced' | 'unchanged'> {
    if (await this.headChanged(f)) return 'replaced';
    const seen = this.recent.window(f, f.readPos);
    const winStart = f.readPos - seen.length;
    const cmpEnd = Math.min(f.size, f.readPos);
    if (cmpEnd <= winStart) return { end: f.size, skipping: false };
    const now = Buffer.allocUnsafe(cmpEnd - winStart);
    const { bytesRead } = await f.fh.read(now, 0, now.length, winStart);
    const d = firstDifference(now.subarray(0, bytesRead), seen);
    if (d < 0) {
      if (winStart + bytesRead >= f.readPos) return 'unchanged';
      return { end: winStart + bytesRead, skipping: false }; // truncated there, not regrown (yet)
    }
    if (d === 0 && winStart > 0) return 'replaced';
    const ls = lineStart(seen, d);
    if (winStart + d >= f.offset) return { end: f.offset, skipping: false }; // inside the partial line we hold
    if (ls >= 0) return { end: winStart + ls, skipping: false };
    if (winStart === 0) return { end: 0, skipping: false };
    // the line began before what we remember: skip its rest, never deliver a fragment
    return { end: winStart + d, skipping: true };
  }

  /** Applies a Cut to `f`. */
  cut(f: FileReader, c: Cut): void {
    f.cutAt(c.end, c.skipping);
    this.recent.cutTo(c.end);
  }
}

/**
 * Whether `copy` (copytruncate's `path.1`, opened after `f`'s content was found replaced) holds `f`'s old content
 * beyond the end of the last complete line we delivered: another inode, the old first bytes, longer than `offset`.
 */
export function isCopyOf(copy: FileReader, f: FileReader, oldHead: Buffer, offset: number): boolean {
  return copy.ino !== f.ino && oldHead.length > 0 && copy.size > offset && sameContent(copy, oldHead, offset);
}
