/**
 * The contract between the access-log parsers and the pipeline: the reusable result every parser writes into,
 * the bounded set of parse-error reasons, and the `LineParser` interface. (Byte primitives are in bytes.ts, the
 * outcome vocabularies in outcomes.ts, the methods in http-method.ts.)
 *
 * Parsers never throw on the hot path and never allocate per line: `parse(buf, start, end, out)` fills `out`
 * and returns the shared `PARSE_OK` or one of the shared `ParseFailure` constants.
 */

import { isBinary } from './bytes.js';
import { METHOD_OTHER } from './http-method.js';
import { CACHE_RESULTS, LOCK_RESULTS, OUTCOME_ABSENT } from './outcomes.js';

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
const BINARY = FAILURES.binary;
export const INVALID_JSON = FAILURES.invalid_json;
export const FORMAT_MISMATCH = FAILURES.format_mismatch;
export const INVALID_WRAPPER = FAILURES.invalid_wrapper;
export const MISSING_FIELD = FAILURES.missing_field;
export const INVALID_STATUS = FAILURES.invalid_status;
export const INVALID_DURATION = FAILURES.invalid_duration;
export const INVALID_BYTES = FAILURES.invalid_bytes;

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

/** A duration in seconds is usable: finite, ≥ 0 and at most a day. */
export const validSeconds = (v: number): boolean => v >= 0 && v <= MAX_DURATION_SECONDS;

/**
 * Classifies a line that failed to parse: `binary` when it holds NUL or other control bytes (not tab) or is not
 * valid UTF-8, else the parser's own reason. Only runs on the error path.
 */
export function binaryOr(buf: Buffer, start: number, end: number, otherwise: ParseFailure): ParseFailure {
  return isBinary(buf, start, end) ? BINARY : otherwise;
}
