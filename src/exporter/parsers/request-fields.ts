/**
 * The reusable result every access-log parser writes into, the bounded set of parse-error reasons, and the
 * byte-level helpers the parsers share (numbers, outcome words, binary detection).
 *
 * Parsers never throw on the hot path and never allocate per line: `parse(buf, start, end, out)` fills `out`
 * and returns the shared `PARSE_OK` or one of the shared `ParseFailure` constants.
 */

import { METHOD_OTHER } from './http-method.js';

/**
 * Why a line was not counted as a request (`crm_log_parse_errors_total{reason}`). Bounded and stable.
 * - `empty_line`: nothing but whitespace.
 * - `line_too_long`: longer than `max_line_bytes` (reported by the tailer; the line is skipped).
 * - `binary`: the line that failed to parse contains NUL/control bytes or invalid UTF-8 (garbage, a sparse file).
 * - `invalid_json`: json format, the line is not valid JSON.
 * - `format_mismatch`: nginx/regex format, the line does not have the configured shape; json: valid JSON but not an object.
 * - `missing_field`: a field every request must have (the status) is absent.
 * - `invalid_status`: not an integer in 100-599.
 * - `invalid_duration`: a duration or phase time that is not a number, negative, or over one day.
 * - `invalid_bytes`: a response size that is not a non-negative integer.
 * - `invalid_wrapper`: `container_format` set, the line is not a record of that container-log format.
 */
export const PARSE_ERROR_REASONS = [
  'empty_line',
  'line_too_long',
  'binary',
  'invalid_json',
  'format_mismatch',
  'missing_field',
  'invalid_status',
  'invalid_duration',
  'invalid_bytes',
  'invalid_wrapper',
] as const;
export type ParseErrorReason = (typeof PARSE_ERROR_REASONS)[number];

export interface ParseOk {
  readonly ok: true;
}
export interface ParseFailure {
  readonly ok: false;
  readonly reason: ParseErrorReason;
  /** Index of `reason` in PARSE_ERROR_REASONS (for array-indexed counters). */
  readonly code: number;
}
export type ParseResult = ParseOk | ParseFailure;

export const PARSE_OK: ParseOk = Object.freeze({ ok: true });

const FAILURES = Object.fromEntries(
  PARSE_ERROR_REASONS.map((reason, code) => [reason, Object.freeze({ ok: false, reason, code })]),
) as Record<ParseErrorReason, ParseFailure>;

/** The shared failure constant for a reason (compare by identity or by `.reason`). */
export const fail = (reason: ParseErrorReason): ParseFailure => FAILURES[reason];

export const EMPTY_LINE = FAILURES.empty_line;
export const LINE_TOO_LONG = FAILURES.line_too_long;
export const BINARY = FAILURES.binary;
export const INVALID_JSON = FAILURES.invalid_json;
export const FORMAT_MISMATCH = FAILURES.format_mismatch;
export const INVALID_WRAPPER = FAILURES.invalid_wrapper;
export const MISSING_FIELD = FAILURES.missing_field;
export const INVALID_STATUS = FAILURES.invalid_status;
export const INVALID_DURATION = FAILURES.invalid_duration;
export const INVALID_BYTES = FAILURES.invalid_bytes;

/** Cache outcomes (`crm_cache_lookups_total{result}`); anything else is `other`. */
export const CACHE_RESULTS = ['hit', 'miss', 'bypass', 'other'] as const;
/** Lock outcomes (`crm_lock_acquisitions_total{result}`); anything else is `other`. */
export const LOCK_RESULTS = ['acquired', 'contended', 'timeout', 'other'] as const;
export const OUTCOME_ABSENT = -1;

/** Largest duration accepted (one day, in seconds); anything larger is `invalid_duration`. */
export const MAX_DURATION_SECONDS = 86_400;
/** Largest response size accepted (1 PiB); anything larger is `invalid_bytes`. */
export const MAX_BYTES = 2 ** 50;

/**
 * One parsed request. Byte ranges point into `pathBuf`/`routeBuf` (the line buffer, or a parser's scratch buffer
 * on fallback paths) and are only valid until the next `parse` call. Absent numbers are NaN, absent ranges have
 * start -1, absent outcomes are OUTCOME_ABSENT.
 */
export interface RequestFields {
  /** Method id (see http-method.ts). */
  method: number;
  /** The request path as logged (may include a query string). */
  pathBuf: Buffer;
  pathStart: number;
  pathEnd: number;
  /** The application's own route template (json `route` field, regex `route` group), used as-is. */
  routeBuf: Buffer;
  routeStart: number;
  routeEnd: number;
  status: number;
  /** Total request time in seconds. */
  duration: number;
  /** Response body bytes. */
  bytes: number;
  /** Time spent waiting for the upstream (nginx $upstream_response_time), seconds. */
  upstream: number;
  /** Database time, seconds. */
  db: number;
  /** Cache time, seconds. */
  cacheTime: number;
  /** Index into CACHE_RESULTS or OUTCOME_ABSENT. */
  cacheResult: number;
  /** Index into LOCK_RESULTS or OUTCOME_ABSENT. */
  lockResult: number;
  /** Lock wait, seconds. */
  lockWait: number;
}

const EMPTY = Buffer.alloc(0);

export function createRequestFields(): RequestFields {
  const f: RequestFields = {
    method: METHOD_OTHER,
    pathBuf: EMPTY,
    pathStart: -1,
    pathEnd: -1,
    routeBuf: EMPTY,
    routeStart: -1,
    routeEnd: -1,
    status: 0,
    duration: NaN,
    bytes: NaN,
    upstream: NaN,
    db: NaN,
    cacheTime: NaN,
    cacheResult: OUTCOME_ABSENT,
    lockResult: OUTCOME_ABSENT,
    lockWait: NaN,
  };
  return f;
}

export function resetRequestFields(f: RequestFields): void {
  f.method = METHOD_OTHER;
  f.pathStart = -1;
  f.pathEnd = -1;
  f.routeStart = -1;
  f.routeEnd = -1;
  f.status = 0;
  f.duration = NaN;
  f.bytes = NaN;
  f.upstream = NaN;
  f.db = NaN;
  f.cacheTime = NaN;
  f.cacheResult = OUTCOME_ABSENT;
  f.lockResult = OUTCOME_ABSENT;
  f.lockWait = NaN;
}

/** A plain, decoded view of the fields (tests and debugging; allocates). */
export function describeRequestFields(f: RequestFields): Record<string, string | number | null> {
  const dec = (b: Buffer, s: number, e: number): string | null => (s < 0 ? null : b.toString('utf8', s, e));
  const num = (n: number): number | null => (Number.isNaN(n) ? null : n);
  return {
    method: f.method,
    path: dec(f.pathBuf, f.pathStart, f.pathEnd),
    route: dec(f.routeBuf, f.routeStart, f.routeEnd),
    status: f.status,
    duration: num(f.duration),
    bytes: num(f.bytes),
    upstream: num(f.upstream),
    db: num(f.db),
    cacheTime: num(f.cacheTime),
    cache: f.cacheResult < 0 ? null : (CACHE_RESULTS[f.cacheResult] ?? null),
    lock: f.lockResult < 0 ? null : (LOCK_RESULTS[f.lockResult] ?? null),
    lockWait: num(f.lockWait),
  };
}

/** A parser of one access-log line format. */
export interface LineParser {
  /** Reasons this parser can return (its `crm_log_parse_errors_total` series start at 0). */
  readonly reasons: readonly ParseErrorReason[];
  /** Which optional fields the format can carry, so metrics only export the phases the log has. */
  readonly has: FieldPresence;
  parse(buf: Buffer, start: number, end: number, out: RequestFields): ParseResult;
}

export interface FieldPresence {
  duration: boolean;
  bytes: boolean;
  upstream: boolean;
  db: boolean;
  cacheTime: boolean;
  cache: boolean;
  lock: boolean;
  lockWait: boolean;
}

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];

/**
 * Parses a decimal number (`-12`, `0.012`, `1.5e3`) filling exactly `buf[start, end)`; NaN when the bytes are not
 * one. Results equal `Number()`/`JSON.parse` (mantissa and power of ten are exact doubles, so the one division
 * is correctly rounded); unusual spellings fall back to `Number()` on a latin1 string.
 */
export function parseDecimal(buf: Buffer, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && buf[i] === 0x2d /* - */) {
    neg = true;
    i++;
  }
  if (i >= end) return NaN;
  let mant = 0;
  let digits = 0;
  let frac = 0;
  let c = buf[i] as number;
  while (c >= 0x30 && c <= 0x39) {
    mant = mant * 10 + (c - 0x30);
    digits++;
    if (++i >= end) break;
    c = buf[i] as number;
  }
  if (digits === 0) return NaN;
  if (i < end && c === 0x2e /* . */) {
    i++;
    const fracStart = i;
    while (i < end) {
      c = buf[i] as number;
      if (c < 0x30 || c > 0x39) break;
      mant = mant * 10 + (c - 0x30);
      i++;
    }
    frac = i - fracStart;
    if (frac === 0) return NaN;
    digits += frac;
  }
  if (i < end) {
    if ((c | 0x20) !== 0x65 /* e */) return NaN;
    return slowDecimal(buf, start, end);
  }
  if (digits > 15 || frac > 22) return slowDecimal(buf, start, end);
  const v = frac === 0 ? mant : mant / (POW10[frac] as number);
  return neg ? -v : v;
}

function slowDecimal(buf: Buffer, start: number, end: number): number {
  const text = buf.toString('latin1', start, end);
  // JSON number grammar (what every format here writes); Number() alone would accept hex, "Infinity", ...
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return NaN;
  return Number(text);
}

/** Non-negative integer of exactly `buf[start, end)`, or -1. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** A duration in seconds is usable: finite, ≥ 0 and at most a day. */
export const validSeconds = (v: number): boolean => v >= 0 && v <= MAX_DURATION_SECONDS;

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/** `buf[start, end)` is `word` (lower case), ignoring the case of ASCII letters. */
function wordIs(buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 1; i < word.length; i++) if (lower(buf[start + i] as number) !== word.charCodeAt(i)) return false;
  return true;
}

/** True when the value is "" or "-" (how logs write "no value"). */
export const isDash = (buf: Buffer, start: number, end: number): boolean =>
  end === start || (end - start === 1 && buf[start] === 0x2d);

/** Cache outcome id (case-insensitive: nginx writes HIT/MISS/BYPASS); "" and "-" are absent. */
export function cacheResultFromBytes(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  const c = (buf[start] as number) | 0x20;
  if (n === 3 && c === 0x68 && wordIs(buf, start, end, 'hit')) return 0;
  if (n === 4 && c === 0x6d && wordIs(buf, start, end, 'miss')) return 1;
  if (n === 6 && c === 0x62 && wordIs(buf, start, end, 'bypass')) return 2;
  return isDash(buf, start, end) ? OUTCOME_ABSENT : 3;
}

/** Lock outcome id (case-insensitive); "" and "-" are absent. */
export function lockResultFromBytes(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  const c = (buf[start] as number) | 0x20;
  if (n === 8 && c === 0x61 && wordIs(buf, start, end, 'acquired')) return 0;
  if (n === 9 && c === 0x63 && wordIs(buf, start, end, 'contended')) return 1;
  if (n === 7 && c === 0x74 && wordIs(buf, start, end, 'timeout')) return 2;
  return isDash(buf, start, end) ? OUTCOME_ABSENT : 3;
}

/**
 * Classifies a line that failed to parse: `binary` when it holds NUL or other control bytes (not tab) or is not
 * valid UTF-8, else the parser's own reason. Only runs on the error path.
 */
export function binaryOr(buf: Buffer, start: number, end: number, otherwise: ParseFailure): ParseFailure {
  let i = start;
  while (i < end) {
    const c = buf[i] as number;
    if (c < 0x80) {
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return BINARY;
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
    } else return BINARY;
    if (i + n >= end) return BINARY;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = buf[i + k] as number;
      if ((cc & 0xc0) !== 0x80) return BINARY;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return BINARY;
    i += n + 1;
  }
  return otherwise;
}
