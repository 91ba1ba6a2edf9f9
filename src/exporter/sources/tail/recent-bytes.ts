/**
 * The last bytes the tailer read from its current file, ending at the read position. They let it recognise a file
 * truncated in place to a smaller size (the kept prefix is what was read) and find where the kept prefix ends, also
 * when the file regrew past the read position before the tailer looked (docs/tailing.md, "Truncation in place").
 */

/** Bytes remembered (at least; up to twice as many between compactions). */
export const RECENT_BYTES = 64 * 1024;

const NL = 10;

export class RecentBytes {
  private readonly buf = Buffer.allocUnsafe(2 * RECENT_BYTES);
  private len = 0;
  private owner: object | undefined;
  /** file offset where the remembered bytes end */
  private end = 0;

  /**
   * The remembered bytes of `owner` ending at `pos`, oldest first (a view, valid until the next call). Empty when
   * what we hold is another file's or ends elsewhere: we then start over, remembering from `pos`.
   */
  window(owner: object, pos: number): Buffer {
    if (this.owner !== owner || this.end !== pos) this.reset(owner, pos);
    return this.buf.subarray(0, this.len);
  }

  /** Forgets everything; what is appended next starts at `pos` of `owner`. */
  reset(owner: object | undefined, pos: number): void {
    this.owner = owner;
    this.end = pos;
    this.len = 0;
  }

  /** `src[start, start + n)` was read from `owner` at `pos` and is about to be used. */
  append(owner: object, pos: number, src: Buffer, start: number, n: number): void {
    if (this.owner !== owner || this.end !== pos) this.reset(owner, pos);
    const b = this.buf;
    if (n >= RECENT_BYTES) {
      src.copy(b, 0, start + n - RECENT_BYTES, start + n);
      this.len = RECENT_BYTES;
    } else {
      if (this.len + n > b.length) {
        // compact: keep the newest RECENT_BYTES - n bytes (each byte is moved at most once per RECENT_BYTES appended)
        const keep = RECENT_BYTES - n;
        b.copyWithin(0, this.len - keep, this.len);
        this.len = keep;
      }
      src.copy(b, this.len, start, start + n);
      this.len += n;
    }
    this.end = pos + n;
  }

  /** The file now ends (for us) at `pos`, at or before where the remembered bytes end: drop what lies beyond. */
  cutTo(pos: number): void {
    this.len = Math.max(0, this.len - Math.max(0, this.end - pos));
    this.end = pos;
  }
}

/** Index of the first byte where `a` and `b` differ within their common length, or -1 when that part is equal. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  if (a.subarray(0, n).equals(b.subarray(0, n))) return -1;
  let lo = 0;
  let hi = n; // the first difference is in [lo, hi)
  while (hi - lo > 64) {
    const mid = (lo + hi) >>> 1;
    if (a.subarray(lo, mid).equals(b.subarray(lo, mid))) lo = mid;
    else hi = mid;
  }
  for (let i = lo; i < hi; i++) if (a[i] !== b[i]) return i;
  return -1; // unreachable: the halves were unequal
}

/** Start of the line holding `bytes[i]`: after the last "\n" before `i`, or -1 when there is none in `bytes`. */
export function lineStart(bytes: Buffer, i: number): number {
  if (i === 0) return -1;
  const nl = bytes.lastIndexOf(NL, i - 1);
  return nl < 0 ? -1 : nl + 1;
}
