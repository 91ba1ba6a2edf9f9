/**
 * The byte-level primitives of the hot path, in one place with their own tests (test/parsers/bytes.test.ts):
 * numbers read from bytes, word-at-a-time (four bytes per step) scanning and comparison, hashing, a byte-keyed
 * cache and an int -> int map. Everything here works on `buf[start, end)` ranges and allocates nothing per call.
 *
 * Four-byte steps read unaligned little-endian 32-bit words through a DataView of the buffer (`DataViewCache`: the
 * tailer hands every line of one read in the same buffer, so the view is built once per read, not per line).
 */

// ------------------------------------------------------------------ numbers

/** Powers of ten that are exact doubles (up to 1e22). */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** The value of the number scanNumber read last (an out parameter: the scanner returns where the number ends). */
export const scanned = new Float64Array(1);

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * Reads the number that starts at `buf[i]` and ends at or before `end` in the JSON grammar (`-12`, `0.012`,
 * `1.5e3`); returns the index after it and leaves its value in `scanned[0]`, or returns -1 when no such number
 * starts at `i`. `json`: reject a leading zero before more digits (`007`), as JSON does; logs may write one.
 * Values equal `Number()`/`JSON.parse`: up to 15 digits the mantissa and the power of ten are exact doubles, so the
 * one division is correctly rounded; exponents and longer numbers go through `Number()` (longNumber). Small on
 * purpose: V8 inlines it into the scanners' loops.
 */
export function scanNumber(buf: Buffer, i: number, end: number, json: boolean): number {
  const start = i;
  let c = buf[i] as number;
  if (c === 0x2d /* - */) c = buf[++i] as number;
  let mant = 0;
  let n = 0;
  while (i < end && c >= 0x30 && c <= 0x39) {
    mant = mant * 10 + (c - 0x30);
    n++;
    c = buf[++i] as number;
  }
  if (n === 0 || (json && n > 1 && buf[i - n] === 0x30)) return -1;
  let frac = 0;
  if (i < end && c === 0x2e /* . */) {
    c = buf[++i] as number;
    while (i < end && c >= 0x30 && c <= 0x39) {
      mant = mant * 10 + (c - 0x30);
      frac++;
      c = buf[++i] as number;
    }
    if (frac === 0) return -1;
  }
  if ((i < end && (c | 0x20) === 0x65) /* e, E */ || n + frac > 15) return longNumber(buf, start, i, end);
  const v = frac === 0 ? mant : mant / (POW10[frac] as number);
  scanned[0] = buf[start] === 0x2d ? -v : v;
  return i;
}

/** scanNumber's rare case: the number `buf[start, i)` has more than 15 digits or an exponent at `i`. */
function longNumber(buf: Buffer, start: number, i: number, end: number): number {
  if (i < end && ((buf[i] as number) | 0x20) === 0x65) {
    i++;
    if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    const digits = i;
    while (i < end && isDigit(buf[i] as number)) i++;
    if (i === digits) return -1;
  }
  scanned[0] = Number(buf.toString('latin1', start, i));
  return i;
}

/**
 * The decimal number filling exactly `buf[start, end)` (`-12`, `0.012`, `1.5e3`, leading zeros allowed), or NaN.
 * Unlike `Number()` it accepts no hex, no `Infinity`, no sign `+`, no blanks.
 */
export function parseDecimal(buf: Buffer, start: number, end: number): number {
  // scanNumber's grammar (json = false), but its own loop and return value: as a wrapper of scanNumber it was inlined
  // into the generated nginx parser with scanNumber left behind as a call (the parser's inlining budget was spent)
  // and the value passed through `scanned`, which cost ~5 % of nginx ingest CPU (bench/RESULTS.md).
  let i = start;
  if (i < end && buf[i] === 0x2d /* - */) i++;
  const digits = i;
  let mant = 0;
  let c = 0;
  while (i < end && (c = buf[i] as number) >= 0x30 && c <= 0x39) {
    mant = mant * 10 + (c - 0x30);
    i++;
  }
  const n = i - digits;
  if (n === 0) return NaN;
  let frac = 0;
  if (i < end && c === 0x2e /* . */) {
    const fracStart = ++i;
    while (i < end && (c = buf[i] as number) >= 0x30 && c <= 0x39) {
      mant = mant * 10 + (c - 0x30);
      i++;
    }
    frac = i - fracStart;
    if (frac === 0) return NaN;
  }
  if (i < end || n + frac > 15) return longNumber(buf, start, i, end) === end ? (scanned[0] as number) : NaN;
  const v = frac === 0 ? mant : mant / (POW10[frac] as number);
  return buf[start] === 0x2d ? -v : v;
}

/** Non-negative integer of exactly `buf[start, end)` (at most 15 digits), or -1. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

// ------------------------------------------------------------------ small words

/** True when the value is "" or "-" (how logs write "no value"). */
export const isDash = (buf: Buffer, start: number, end: number): boolean =>
  end === start || (end - start === 1 && buf[start] === 0x2d);

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/** `buf[start, end)` is `word` (lower-case ASCII), ignoring the case of ASCII letters. */
export function equalsIgnoreCase(buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(buf[start + i] as number) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * True when `buf[start, end)` holds a NUL or another control byte (not tab), DEL, or is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included): what a log of text never holds.
 */
export function isBinary(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = buf[i] as number;
    if (c < 0x80) {
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return true;
    if (i + n >= end) return true;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = buf[i + k] as number;
      if ((cc & 0xc0) !== 0x80) return true;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return true;
    i += n + 1;
  }
  return false;
}

// ------------------------------------------------------------------ four bytes at a time

/**
 * A DataView of the last buffer asked for, rebuilt only when the buffer changes. Call `of` from a small function,
 * not from inside a big hot loop function: the rebuild runs once per read buffer, too rarely for V8 to record type
 * feedback before it optimises, so the first new buffer deoptimises whatever function inlined `of`.
 */
export class DataViewCache {
  private dv: DataView = new DataView(new ArrayBuffer(8));
  private buf: Buffer | undefined;

  of(buf: Buffer): DataView {
    if (buf !== this.buf) {
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.buf = buf;
    }
    return this.dv;
  }
}

/** A DataView of the whole of `buf`. */
export const dataViewOf = (buf: Buffer): DataView => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

/**
 * Skips the bytes of a JSON string's contents from `i` four at a time while none of the four is a quote, a
 * backslash or a control character (the classic "has a zero byte" test, `(x - 0x01..) & ~x & 0x80..`, applied to
 * the word XOR each stop byte, and to the word itself against 0x20..: a byte < 0x20 borrows). Returns the first
 * index whose word holds such a byte, or the start of the last 0-3 bytes before `end`: the caller goes on byte by
 * byte from there. Bytes ≥ 0x80 (UTF-8) never stop it.
 */
export function skipPlainJsonWords(dv: DataView, i: number, end: number): number {
  while (i + 4 <= end) {
    const w = dv.getInt32(i, true);
    const q = w ^ 0x22222222; // "
    const b = w ^ 0x5c5c5c5c; // \
    if (((((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | ((w - 0x20202020) & ~w)) & 0x80808080) !== 0) break;
    i += 4;
  }
  return i;
}

/**
 * The bytes of `key` as little-endian 32-bit words for `equalsWords`: its full words, then one word of its last
 * four bytes (overlapping the previous one when the length is not a multiple of four). Empty below four bytes.
 */
export function toWords(key: Uint8Array): Int32Array {
  const n = key.length;
  if (n < 4) return new Int32Array(0);
  const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const words: number[] = [];
  for (let j = 0; j + 4 < n; j += 4) words.push(dv.getInt32(j, true));
  words.push(dv.getInt32(n - 4, true));
  return Int32Array.from(words);
}

/**
 * `buf[at, at + key.length)` equals `key`, whose `toWords` are `words`: four bytes per comparison when the key has
 * at least four, else byte by byte. The caller ensures the range lies inside the buffer.
 */
export function equalsWords(dv: DataView, buf: Buffer, at: number, key: Uint8Array, words: Int32Array): boolean {
  const n = key.length;
  if (n < 4) {
    for (let j = 0; j < n; j++) if (buf[at + j] !== key[j]) return false;
    return true;
  }
  const last = words.length - 1;
  for (let w = 0; w < last; w++) if (dv.getInt32(at + 4 * w, true) !== words[w]) return false;
  return dv.getInt32(at + n - 4, true) === words[last];
}

// ------------------------------------------------------------------ hashing and tables

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** Hash of `buf[start, end)` four bytes at a time (FNV-style mixing, murmur3 finaliser for the low bits). */
export function hashWords(dv: DataView, buf: Buffer, start: number, end: number): number {
  let h = FNV_OFFSET ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ dv.getInt32(i, true), FNV_PRIME);
  for (; i < end; i++) h = Math.imul(h ^ (buf[i] as number), FNV_PRIME);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** hashWords of a whole byte string (set-up code; allocates a DataView). */
export const hashBytes = (bytes: Buffer): number => hashWords(dataViewOf(bytes), bytes, 0, bytes.length);

/**
 * Open-addressing cache from byte strings to int values (≥ 0), bounded in entries and in bytes: when either is
 * used up it is cleared whole (`clears` counts that) and fills again. Keys longer than `maxKeyBytes` are not stored.
 * The caller passes each key's `hashWords`, which it usually has already.
 */
export class ByteKeyCache {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly hashes: Int32Array;
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  private readonly values: Int32Array;
  private readonly arena: Buffer;
  private readonly arenaDv: DataView;
  private readonly keyDv = new DataViewCache();
  private count = 0;
  private used = 0;
  /** Times the cache was cleared because it was full. */
  clears = 0;

  constructor(
    private readonly maxEntries = 4096,
    arenaBytes = 256 * 1024,
    private readonly maxKeyBytes = 1024,
  ) {
    let cap = 16;
    while (cap < maxEntries * 2) cap <<= 1;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.hashes = new Int32Array(maxEntries);
    this.starts = new Int32Array(maxEntries);
    this.lengths = new Int32Array(maxEntries);
    this.values = new Int32Array(maxEntries);
    this.arena = Buffer.alloc(arenaBytes);
    this.arenaDv = dataViewOf(this.arena);
  }

  get size(): number {
    return this.count;
  }

  /** Value stored for `key[keyStart, keyStart + len)` with hash `hash`, or -1. */
  get(key: Buffer, keyStart: number, len: number, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let s = hash & mask;
    for (;;) {
      const e = slots[s] as number;
      if (e === 0) return -1;
      const idx = e - 1;
      if (
        this.hashes[idx] === hash &&
        this.lengths[idx] === len &&
        this.same(key, keyStart, len, this.starts[idx] as number)
      )
        return this.values[idx] as number;
      s = (s + 1) & mask;
    }
  }

  /** Compares with the stored bytes at `off`, four bytes at a time. */
  private same(key: Buffer, keyStart: number, len: number, off: number): boolean {
    const kd = this.keyDv.of(key);
    const ad = this.arenaDv;
    let j = 0;
    for (; j + 4 <= len; j += 4) if (kd.getInt32(keyStart + j, true) !== ad.getInt32(off + j, true)) return false;
    for (; j < len; j++) if (key[keyStart + j] !== this.arena[off + j]) return false;
    return true;
  }

  set(key: Buffer, keyStart: number, len: number, hash: number, value: number): void {
    if (len > this.maxKeyBytes || len > this.arena.length) return;
    if (this.count >= this.maxEntries || this.used + len > this.arena.length) this.clear();
    const idx = this.count++;
    this.hashes[idx] = hash;
    this.starts[idx] = this.used;
    this.lengths[idx] = len;
    this.values[idx] = value;
    key.copy(this.arena, this.used, keyStart, keyStart + len);
    this.used += len;
    let s = hash & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = idx + 1;
  }

  clear(): void {
    this.slots.fill(0);
    this.count = 0;
    this.used = 0;
    this.clears++;
  }
}

/** Open-addressing int -> int map: keys are int32 ≥ 0, values int32; `get` answers -1 for a missing key. */
export class IntMap {
  private keys: Int32Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;

  /** `capacity`: a power of two; the table doubles whenever it would be more than half full. */
  constructor(capacity = 256) {
    this.keys = new Int32Array(capacity).fill(-1);
    this.vals = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: number): number {
    const keys = this.keys;
    let s = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const k = keys[s] as number;
      if (k === key) return this.vals[s] as number;
      if (k === -1) return -1;
      s = (s + 1) & this.mask;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    let s = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    while (this.keys[s] !== -1 && this.keys[s] !== key) s = (s + 1) & this.mask;
    if (this.keys[s] === -1) this.count++;
    this.keys[s] = key;
    this.vals[s] = value;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Int32Array(oldKeys.length * 2).fill(-1);
    this.vals = new Int32Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++)
      if (oldKeys[i] !== -1) this.set(oldKeys[i] as number, oldVals[i] as number);
  }
}
