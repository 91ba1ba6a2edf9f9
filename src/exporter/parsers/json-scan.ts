/**
 * The byte scanner of JSON access-log lines (no string, no object per line): one pass over `{"key":value,...}` in
 * any key order and with any whitespace, recording the raw value of each configured key (a string's byte range or
 * a number) and validating the rest of the syntax as it skips it. json-line.ts turns the raw values into fields.
 *
 * Two shortcuts keep it near the cost of reading the bytes once: the key sequence of the previous line is
 * remembered (lines of one log have the same keys in the same order), so a key is usually recognised by comparing
 * it with the expected one four bytes at a time; and a string value the exporter does not read is skipped with one
 * native search for its closing quote (its contents are not validated then, so a line's result does not depend on
 * the lines before it only where the scanner would have accepted it anyway).
 *
 * `scan` answers false for what it does not handle itself (an escape inside a configured string field, a nested
 * object or array) and for anything that may be invalid; the caller then lets `JSON.parse` decide.
 */

import {
  ByteKeyCache,
  POW10,
  DataViewCache,
  equalsWords,
  hashBytes,
  hashWords,
  scanned,
  scanNumber,
  skipPlainJsonWords,
  toWords,
} from './bytes.js';

/** Raw value types of a field. */
export const T_ABSENT = 0;
export const T_STRING = 1;
export const T_NUMBER = 2;
export const T_BOOL = 3;
export const T_NULL = 4;
export const T_OTHER = 5;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Key positions remembered from the previous line. */
const MAX_SHAPE = 32;

/** Bytes that end or interrupt a JSON string: quote, backslash, control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/** The bytes that may follow a backslash in a JSON string (besides `u` and four hex digits). */
const ESCAPABLE = new Uint8Array(256);
for (const c of '"\\/bfnrt') ESCAPABLE[c.charCodeAt(0)] = 1;

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isHexDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

export class JsonFieldScanner {
  // The raw values of the last line by field id (also written by the caller's fallback): a type, a string's byte
  // range or a number.
  readonly type: Uint8Array;
  readonly vStart: Int32Array;
  readonly vEnd: Int32Array;
  readonly vNum: Float64Array;
  /** Key bytes by field id (`null`: the log has no such key). */
  private readonly keys: readonly (Buffer | null)[];
  /** Key bytes -> field id. */
  private readonly fieldOf: ByteKeyCache;
  private readonly shapeKey: (Buffer | undefined)[] = new Array<Buffer | undefined>(MAX_SHAPE).fill(undefined);
  private readonly shapeWords: Int32Array[] = new Array<Int32Array>(MAX_SHAPE).fill(new Int32Array(0));
  private readonly shapeField = new Int16Array(MAX_SHAPE);
  private readonly dvs = new DataViewCache();

  constructor(keys: readonly (Buffer | null)[]) {
    this.keys = keys;
    this.type = new Uint8Array(keys.length);
    this.vStart = new Int32Array(keys.length);
    this.vEnd = new Int32Array(keys.length);
    this.vNum = new Float64Array(keys.length);
    const present = keys.filter((k): k is Buffer => k !== null);
    const bytes = present.reduce((n, k) => n + k.length, 1);
    this.fieldOf = new ByteKeyCache(Math.max(present.length, 1), bytes, bytes);
    keys.forEach((key, f) => {
      if (key !== null) this.fieldOf.set(key, 0, key.length, hashBytes(key), f);
    });
  }

  /** Scans `buf[start, end)` into the raw values (see the module comment); false: let JSON.parse decide. */
  scan(buf: Buffer, start: number, end: number): boolean {
    // The DataView is fetched here, outside the big loop function: its rebuild (once per read buffer) runs too
    // rarely for V8 to record type feedback before optimising, so the first new buffer deoptimises the function
    // that inlined it. Here that costs the recompilation of this small wrapper; inside scanObject it cost that
    // of the whole loop (and its time unoptimised meanwhile): ~8 % more CPU per line over a 1M-line run.
    return this.scanObject(buf, this.dvs.of(buf), start, end);
  }

  private scanObject(buf: Buffer, dv: DataView, start: number, end: number): boolean {
    const type = this.type;
    for (let f = 0; f < type.length; f++) type[f] = T_ABSENT;
    let i = start;
    while (i < end && isWs(buf[i] as number)) i++;
    if (i >= end || buf[i] !== 0x7b /* { */) return false;
    i++;
    while (i < end && isWs(buf[i] as number)) i++;
    if (i < end && buf[i] === 0x7d /* } */) i++;
    else {
      const shapeKey = this.shapeKey;
      const shapeField = this.shapeField;
      for (let k = 0; ; k++) {
        // key
        if (i >= end || buf[i] !== QUOTE) return false;
        let f = -2;
        const ks = i + 1;
        if (k < MAX_SHAPE) {
          const exp = shapeKey[k];
          if (exp !== undefined) {
            const n = exp.length;
            if (
              ks + n < end &&
              buf[ks + n] === QUOTE &&
              equalsWords(dv, buf, ks, exp, this.shapeWords[k] as Int32Array)
            ) {
              f = shapeField[k] as number;
              i = ks + n + 1;
            }
          }
        }
        if (f === -2) {
          i = ks;
          for (;;) {
            if (i >= end) return false;
            const c = buf[i] as number;
            if (c === QUOTE) break;
            if (c === BACKSLASH || c < 0x20) return false;
            i++;
          }
          f = this.fieldOf.get(buf, ks, i - ks, hashWords(dv, buf, ks, i));
          if (k < MAX_SHAPE) {
            const key = f >= 0 ? (this.keys[f] as Buffer) : Buffer.from(buf.subarray(ks, i));
            shapeKey[k] = key;
            this.shapeWords[k] = toWords(key);
            shapeField[k] = f;
          }
          i++;
        }
        if (buf[i] === 0x3a /* : */) i++;
        else {
          while (i < end && isWs(buf[i] as number)) i++;
          if (i >= end || buf[i] !== 0x3a) return false;
          i++;
        }
        while (i < end && isWs(buf[i] as number)) i++;
        if (i >= end) return false;
        // value (inline: this loop is the hot path, and V8 keeps it one optimised function)
        const c = buf[i] as number;
        if (c === QUOTE) {
          const vs = ++i;
          let plain = false;
          if (f < 0) {
            // not read: one native search for the closing quote, unless a backslash precedes it
            const q = buf.indexOf(QUOTE, vs);
            if (q < 0 || q >= end) return false;
            if (buf[q - 1] !== BACKSLASH) {
              i = q;
              plain = true;
            }
          }
          if (!plain) {
            i = skipPlainJsonWords(dv, i, end);
            while (i < end && STRING_STOP[buf[i] as number] === 0) i++;
            if (i >= end) return false;
            if (buf[i] !== QUOTE) {
              if (f >= 0) return false; // a field the exporter reads must be its bytes as they are: JSON.parse
              i = escapedStringEnd(buf, i, end);
              if (i < 0) return false;
            }
            if (f >= 0) {
              type[f] = T_STRING;
              this.vStart[f] = vs;
              this.vEnd[f] = i;
            }
          }
          i++;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          // The usual number (at most 15 digits, no exponent) is read here, inline: calling scanNumber for the ~6
          // numbers of a line cost ~5 % more CPU per line end to end (bench:ingest json over 1M lines; measured
          // again once scanObject no longer deoptimised, although V8 then inlines scanNumber here). Anything else
          // goes to scanNumber, whose grammar this follows exactly.
          const vs = i;
          if (c === 0x2d) i++;
          let d = buf[i] as number;
          if (d < 0x30 || d > 0x39) return false;
          if (d === 0x30 && (buf[i + 1] as number) >= 0x30 && (buf[i + 1] as number) <= 0x39 && i + 1 < end)
            return false;
          let mant = 0;
          let digits = 0;
          while (d >= 0x30 && d <= 0x39 && i < end) {
            mant = mant * 10 + (d - 0x30);
            digits++;
            d = buf[++i] as number;
          }
          let frac = 0;
          if (d === 0x2e && i < end) {
            d = buf[++i] as number;
            while (d >= 0x30 && d <= 0x39 && i < end) {
              mant = mant * 10 + (d - 0x30);
              frac++;
              d = buf[++i] as number;
            }
            if (frac === 0) return false;
          }
          let v: number;
          if (((d | 0x20) === 0x65 && i < end) || digits + frac > 15) {
            i = scanNumber(buf, vs, end, true);
            if (i < 0) return false;
            v = scanned[0] as number;
          } else {
            v = frac === 0 ? mant : mant / (POW10[frac] as number);
            if (c === 0x2d) v = -v;
          }
          if (f >= 0) {
            type[f] = T_NUMBER;
            this.vNum[f] = v;
          }
        } else {
          const n = literalLength(buf, i, end);
          if (n === 0) return false; // a nested value, or invalid
          if (f >= 0) type[f] = n === 4 && c === 0x6e ? T_NULL : T_BOOL;
          i += n;
        }
        let sep = buf[i];
        if (sep !== 0x2c && sep !== 0x7d) {
          while (i < end && isWs(buf[i] as number)) i++;
          sep = buf[i];
        }
        if (i >= end) return false;
        i++;
        if (sep === 0x7d /* } */) break;
        if (sep !== 0x2c /* , */) return false;
        while (i < end && isWs(buf[i] as number)) i++;
      }
    }
    while (i < end && isWs(buf[i] as number)) i++;
    return i === end;
  }
}

/** Length of the `true`, `false` or `null` at `buf[i]` (ending before `end`), or 0. */
function literalLength(buf: Buffer, i: number, end: number): number {
  const c = buf[i];
  let n = 0;
  if (c === 0x74 /* t */ && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65) n = 4;
  else if (
    c === 0x66 /* f */ &&
    buf[i + 1] === 0x61 &&
    buf[i + 2] === 0x6c &&
    buf[i + 3] === 0x73 &&
    buf[i + 4] === 0x65
  )
    n = 5;
  else if (c === 0x6e /* n */ && buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c) n = 4;
  return i + n <= end ? n : 0;
}

/**
 * The closing quote of a JSON string from `i` (a backslash or a control character), validating escapes byte by
 * byte; -1 at a control character, an invalid escape, or when the string does not end before `end`.
 */
function escapedStringEnd(buf: Buffer, i: number, end: number): number {
  for (;;) {
    if (i >= end) return -1;
    const d = buf[i] as number;
    if (STRING_STOP[d] === 0) {
      i++;
      continue;
    }
    if (d === QUOTE) return i;
    if (d < 0x20) return -1;
    // a backslash
    const n = buf[i + 1] as number;
    if (n === 0x75 /* u */) {
      if (
        i + 5 >= end ||
        !isHexDigit(buf[i + 2] as number) ||
        !isHexDigit(buf[i + 3] as number) ||
        !isHexDigit(buf[i + 4] as number) ||
        !isHexDigit(buf[i + 5] as number)
      )
        return -1;
      i += 6;
    } else if (ESCAPABLE[n] === 1 && i + 1 < end) i += 2;
    else return -1;
  }
}
