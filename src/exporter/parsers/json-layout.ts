/**
 * A learned-layout fast path for JSON access-log lines.
 *
 * A logger writes its keys in the same order and each with the same type on every line, so after the generic
 * scanner (json-line.ts) has read a line, this module generates a function for exactly that key sequence: each
 * `,"key":` (with the opening quote of a string value) is compared with constant 32-bit words, each value is read by
 * the type it had on the learned line, and each field the exporter reads is stored into a fixed slot. The generated
 * function has no loops of its own: string and number values go through two small shared helpers (`stringEnd`, four
 * bytes at a time; `numberEnd`), and a string value the exporter does not read is skipped with one native search for
 * its closing quote. That keeps the function small, so V8 optimises it within a few thousand lines (an earlier
 * version with every loop inlined took ~150 ms to compile and ran ~25 times slower until then: a large share of a
 * million-line catch-up).
 *
 * The object may end after any key (optional keys at the end). Anything else that differs — another key, a value of
 * another type, whitespace, an escape or a control character in a string it reads, a backslash before the closing
 * quote of one it skips, a nested value, invalid syntax — makes the function return false and the caller reads that
 * line with the generic scanner. As in the generic scanner's skip of long strings, the contents of a string value
 * the exporter does not read are not validated. The generated source contains only
 * numbers and fixed identifiers: nothing from the log is evaluated.
 */

import { parseDecimal } from './request-fields.js';

/** Raw value types, shared with json-line.ts. */
export const T_ABSENT = 0;
export const T_STRING = 1;
export const T_NUMBER = 2;
export const T_BOOL = 3;
export const T_NULL = 4;
export const T_OTHER = 5;

/**
 * One key of a learned layout: its bytes (without quotes), the field it feeds (-1: not read) and the type its value
 * had on the line the layout was learned from (T_STRING, T_NUMBER, T_BOOL or T_NULL). The generated code only
 * handles that type for that key (a logger writes each key with the same type); any other value bails.
 */
export interface LayoutKey {
  bytes: Uint8Array;
  field: number;
  type: number;
}

/**
 * Parses `buf[start, end)` if it has the layout; fills type/vStart/vEnd/vNum of the fields it holds (the caller
 * cleared `type`). Returns false when the line does not fit (then the slots are meaningless).
 */
export type LayoutParser = (
  buf: Buffer,
  dv: DataView,
  start: number,
  end: number,
  type: Uint8Array,
  vStart: Int32Array,
  vEnd: Int32Array,
  vNum: Float64Array,
) => boolean;

/** Condition that `buf[at .. at + bytes.length)` equals `bytes`: 32-bit word and byte comparisons with constants. */
function bytesEqual(bytes: Uint8Array, at: string): string {
  const parts: string[] = [];
  let j = 0;
  const word = (k: number): number =>
    (bytes[k] as number) |
    ((bytes[k + 1] as number) << 8) |
    ((bytes[k + 2] as number) << 16) |
    ((bytes[k + 3] as number) << 24);
  for (; j + 4 <= bytes.length; j += 4) parts.push(`dv.getInt32(${at} + ${j}, true) === ${word(j) | 0}`);
  if (j < bytes.length && bytes.length >= 4) {
    // the last 1-3 bytes: one word overlapping the previous one
    const k = bytes.length - 4;
    parts.push(`dv.getInt32(${at} + ${k}, true) === ${word(k) | 0}`);
    j = bytes.length;
  }
  for (; j < bytes.length; j++) parts.push(`buf[${at} + ${j}] === ${bytes[j] as number}`);
  return parts.length > 0 ? parts.join(' && ') : 'true';
}

const P10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Index of the closing quote of the JSON string whose contents start at `s`, or -1 when the string holds a
 * backslash or a control character or does not end before `end`. Four bytes per step while none of them is a quote,
 * a backslash or a control character.
 */
function stringEnd(dv: DataView, buf: Buffer, s: number, end: number): number {
  while (s + 4 <= end) {
    const w = dv.getInt32(s, true);
    const x = w ^ 0x22222222;
    const y = w ^ 0x5c5c5c5c;
    if (((((x - 0x01010101) & ~x) | ((y - 0x01010101) & ~y) | ((w - 0x20202020) & ~w)) & -2139062144) !== 0) break;
    s += 4;
  }
  for (;;) {
    if (s >= end) return -1;
    const c = buf[s] as number;
    if (c === 34) return s;
    if (c === 92 || c < 32) return -1;
    s++;
  }
}

/** The value of numberEnd's last number. */
const NUM = new Float64Array(1);

/**
 * End of the JSON number at `i` (its value in NUM[0]), or -1 when there is none or it is not valid JSON. Exponents
 * and more than 15 digits go through parseDecimal, so values equal JSON.parse's.
 */
function numberEnd(buf: Buffer, i: number, end: number): number {
  const q = buf[i] as number;
  const vs = i;
  if (q === 45) i++;
  let d = buf[i] as number;
  if (i >= end || d < 48 || d > 57) return -1;
  if (d === 48 && i + 1 < end && (buf[i + 1] as number) >= 48 && (buf[i + 1] as number) <= 57) return -1;
  let m = 0;
  let n = 0;
  let fr = 0;
  while (i < end && d >= 48 && d <= 57) {
    m = m * 10 + (d - 48);
    n++;
    d = buf[++i] as number;
  }
  if (i < end && d === 46) {
    d = buf[++i] as number;
    while (i < end && d >= 48 && d <= 57) {
      m = m * 10 + (d - 48);
      fr++;
      d = buf[++i] as number;
    }
    if (fr === 0) return -1;
  }
  let v = 0;
  if (i < end && (d === 101 || d === 69)) {
    i++;
    if (buf[i] === 43 || buf[i] === 45) i++;
    while (i < end && (buf[i] as number) >= 48 && (buf[i] as number) <= 57) i++;
    v = parseDecimal(buf, vs, i);
    if (v !== v) return -1;
  } else if (n + fr > 15) v = parseDecimal(buf, vs, i);
  else {
    v = fr === 0 ? m : m / (P10[fr] as number);
    if (q === 45) v = -v;
  }
  NUM[0] = v;
  return i;
}

/** Generates the parser of one key sequence (see the module comment). */
export function compileJsonLayout(keys: readonly LayoutKey[]): { fn: LayoutParser; source: string } {
  const out: string[] = [];
  const emit = (line: string): void => {
    out.push(line);
  };
  emit('let i = start;');
  emit('let q = 0;');
  emit('if (i + 1 >= end || buf[i] !== 123) return false;');
  emit('i++;');
  emit('if (buf[i] === 125) return i + 1 === end;');
  keys.forEach((key, k) => {
    const f = key.field;
    const t = key.type;
    // the separator (after the first key), the quoted key, the colon and, for a string, the value's opening quote
    const token = Uint8Array.from([
      ...(k > 0 ? [0x2c] : []),
      0x22,
      ...key.bytes,
      0x22,
      0x3a,
      ...(t === T_STRING ? [0x22] : []),
    ]);
    emit(`// key ${k}, field ${f}, type ${t}`);
    if (k > 0) {
      // the object may end after any key
      emit(
        `if (i + ${token.length + 1} > end || !(${bytesEqual(token, 'i')})) return buf[i] === 125 && i + 1 === end;`,
      );
    } else {
      emit(`if (i + ${token.length + 1} > end || !(${bytesEqual(token, 'i')})) return false;`);
    }
    emit(`i += ${token.length};`);
    if (t === T_STRING && f < 0) {
      // a string the exporter does not read: one native search for its closing quote (its contents are not
      // validated, as in the generic scanner's long-string skip); a backslash before that quote bails
      emit('{');
      emit('  const s = buf.indexOf(34, i);');
      emit('  if (s < 0 || s >= end || buf[s - 1] === 92) return false;');
      emit('  i = s + 1;');
      emit('}');
    } else if (t === T_STRING) {
      emit('{');
      emit('  const s = stringEnd(dv, buf, i, end);');
      emit('  if (s < 0) return false;');
      if (f >= 0) emit(`  type[${f}] = ${T_STRING}; vStart[${f}] = i; vEnd[${f}] = s;`);
      emit('  i = s + 1;');
      emit('}');
    } else if (t === T_NUMBER) {
      emit('i = numberEnd(buf, i, end);');
      emit('if (i < 0) return false;');
      if (f >= 0) emit(`type[${f}] = ${T_NUMBER}; vNum[${f}] = NUM[0];`);
    } else if (t === T_NULL) {
      emit('if (!(buf[i] === 110 && buf[i + 1] === 117 && buf[i + 2] === 108 && buf[i + 3] === 108)) return false;');
      emit(`i += 4;${f >= 0 ? ` type[${f}] = ${T_NULL};` : ''}`);
    } else if (t === T_BOOL) {
      emit('if (buf[i] === 116 && buf[i + 1] === 114 && buf[i + 2] === 117 && buf[i + 3] === 101) i += 4;');
      emit(
        'else if (buf[i] === 102 && buf[i + 1] === 97 && buf[i + 2] === 108 && buf[i + 3] === 115 && buf[i + 4] === 101) i += 5;',
      );
      emit('else return false;');
      if (f >= 0) emit(`type[${f}] = ${T_BOOL};`);
    } else {
      emit('return false;');
    }
    if (k === keys.length - 1) emit('return i + 1 === end && buf[i] === 125;');
    else emit('if (i >= end) return false;');
  });
  if (keys.length === 0) emit('return false;');
  const source = `"use strict";\nreturn function parseJsonLayout(buf, dv, start, end, type, vStart, vEnd, vNum) {\n  ${out.join('\n  ')}\n};`;
  // Generated from numbers and fixed identifiers only (see the module comment).
  const factory = new Function('stringEnd', 'numberEnd', 'NUM', source) as (
    s: typeof stringEnd,
    n: typeof numberEnd,
    num: Float64Array,
  ) => LayoutParser;
  return { fn: factory(stringEnd, numberEnd, NUM), source };
}
