/**
 * The runtime scanning the generated nginx parsers call (nginx-codegen.ts): literal search, upstream lists, the
 * request line. Pure functions over `buf[pos, end)`; none allocates.
 */

import { isDash, parseDecimal } from './bytes.js';
import { methodFromBytes } from './http-method.js';
import { validSeconds, type RequestFields } from './request-fields.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

/** First index ≥ from where `lit` occurs in buf[from, end) (memchr for its first byte), skipping backslash-escaped quotes; -1 if none. */
export function findLiteralNative(buf: Buffer, from: number, end: number, lit: Uint8Array): number {
  const first = lit[0] as number;
  const n = lit.length;
  // short values ("-" for an absent header) are common: the first bytes are looked at in JS, which is cheaper than
  // a native call; the search continues natively after them
  const jsEnd = Math.min(from + 8, end - n + 1);
  let i = from;
  for (; i < jsEnd; i++) {
    if (buf[i] !== first) continue;
    let j = 1;
    while (j < n && buf[i + j] === lit[j]) j++;
    if (j < n) continue;
    if (first === QUOTE && i > from && buf[i - 1] === BACKSLASH && escapedAt(buf, from, i)) continue;
    return i;
  }
  outer: for (;;) {
    const q = buf.indexOf(first, i);
    if (q < 0 || q + n > end) return -1;
    i = q + 1;
    for (let j = 1; j < n; j++) if (buf[q + j] !== lit[j]) continue outer;
    if (first === QUOTE && q > from && buf[q - 1] === BACKSLASH) {
      let k = q - 1;
      while (k >= from && buf[k] === BACKSLASH) k--;
      if ((q - 1 - k) % 2 === 1) continue;
    }
    return q;
  }
}

/** End of an upstream list value at `pos`: tokens separated by ", " or " : ". */
export function scanUpstreamList(buf: Buffer, pos: number, end: number): number {
  let i = pos;
  for (;;) {
    while (i < end) {
      const c = buf[i];
      if (c === SPACE || c === 0x2c /* , */ || c === QUOTE) break;
      i++;
    }
    if (i + 1 < end && buf[i] === 0x2c && buf[i + 1] === SPACE) {
      i += 2;
      continue;
    }
    if (i + 2 < end && buf[i] === SPACE && buf[i + 1] === 0x3a /* : */ && buf[i + 2] === SPACE) {
      i += 3;
      continue;
    }
    return i;
  }
}

/** Sum of the upstream time list scanned by upstreamTimesEnd: NaN when every entry was "-", -1 when one was invalid. */
export const upstreamSum = new Float64Array(1);

/**
 * One pass over an `$upstream_response_time` value at `pos` ("0.010", "-", "0.010, 0.020", "0.5 : 0.25"): returns
 * where it ends (like scanUpstreamList) and leaves the sum in upstreamSum[0].
 */
export function upstreamTimesEnd(buf: Buffer, pos: number, end: number): number {
  let sum = 0;
  let any = false;
  let bad = false;
  let i = pos;
  for (;;) {
    const s = i;
    while (i < end) {
      const c = buf[i];
      if (c === SPACE || c === 0x2c || c === QUOTE) break;
      i++;
    }
    if (i > s && !isDash(buf, s, i)) {
      const v = parseDecimal(buf, s, i);
      if (validSeconds(v)) {
        sum += v;
        any = true;
      } else bad = true;
    }
    if (i + 1 < end && buf[i] === 0x2c && buf[i + 1] === SPACE) {
      i += 2;
      continue;
    }
    if (i + 2 < end && buf[i] === SPACE && buf[i + 1] === 0x3a && buf[i + 2] === SPACE) {
      i += 3;
      continue;
    }
    upstreamSum[0] = bad ? -1 : any ? sum : NaN;
    return i;
  }
}

/** Splits "METHOD target PROTOCOL" (the protocol is optional); "-" or "" leaves method OTHER and no path. */
export function splitRequest(
  buf: Buffer,
  vs: number,
  ve: number,
  out: RequestFields,
  setMethod: boolean,
  setPath: boolean,
): void {
  if (isDash(buf, vs, ve)) return;
  let sp = vs;
  while (sp < ve && buf[sp] !== SPACE) sp++;
  if (setMethod) out.method = methodFromBytes(buf, vs, sp);
  if (!setPath || sp >= ve) return;
  const ps = sp + 1;
  let pe = ve;
  let last = ve - 1;
  while (last > ps && buf[last] !== SPACE) last--;
  if (
    last > ps &&
    buf[last + 1] === 0x48 /* H */ &&
    buf[last + 2] === 0x54 &&
    buf[last + 3] === 0x54 &&
    buf[last + 4] === 0x50 &&
    buf[last + 5] === 0x2f
  )
    pe = last;
  if (pe > ps) {
    out.pathStart = ps;
    out.pathEnd = pe;
  }
}

/**
 * Fast path for `"$request"`: one pass over "METHOD path HTTP/x" up to the closing quote, setting method and path.
 * Returns the quote's index, or -1 when the request line has another shape ("-", no protocol, spaces or escapes
 * in the path), which the generic search and splitRequest then handle.
 */
export function scanRequest(
  buf: Buffer,
  pos: number,
  end: number,
  out: RequestFields,
  setMethod: boolean,
  setPath: boolean,
): number {
  let i = pos;
  while (i < end) {
    const c = buf[i];
    if (c === SPACE || c === QUOTE) break;
    i++;
  }
  if (i >= end || buf[i] !== SPACE) return -1;
  const me = i++;
  const ps = i;
  while (i < end) {
    const c = buf[i];
    if (c === SPACE || c === QUOTE || c === BACKSLASH) break;
    i++;
  }
  if (i >= end || buf[i] !== SPACE) return -1;
  const pe = i++;
  if (!(buf[i] === 0x48 && buf[i + 1] === 0x54 && buf[i + 2] === 0x54 && buf[i + 3] === 0x50 && buf[i + 4] === 0x2f))
    return -1;
  i += 5;
  while (i < end) {
    const c = buf[i];
    if (c === QUOTE || c === SPACE || c === BACKSLASH) break;
    i++;
  }
  if (i >= end || buf[i] !== QUOTE) return -1;
  if (setMethod) out.method = methodFromBytes(buf, pos, me);
  if (setPath && pe > ps) {
    out.pathStart = ps;
    out.pathEnd = pe;
  }
  return i;
}

/** True when the byte at `i` is preceded by an odd number of backslashes (after `from`). */
export function escapedAt(buf: Buffer, from: number, i: number): boolean {
  let k = i - 1;
  while (k >= from && buf[k] === BACKSLASH) k--;
  return (i - 1 - k) % 2 === 1;
}
