/**
 * JSON access-log lines: the byte scanner (json-scan.ts) reads the usual line without building a string or an
 * object; what it does not handle itself (an escape inside a configured string field, a nested object or array,
 * anything that may be invalid) goes to `JSON.parse`, which decides between a valid unusual line and
 * `invalid_json`. Both record raw values the same way, and one conversion (`apply`) turns them into fields, so
 * the two paths agree.
 *
 * Field semantics: the status is required (`missing_field` otherwise) and may be a number or a numeric string;
 * durations are converted to seconds by `duration_unit`/`phase_unit`; `null` counts as absent; when the route
 * key holds a non-empty string it is the route (used as-is), else `path` is templated.
 */

import { parseDecimal } from './bytes.js';
import { methodFromBytes, METHOD_OTHER } from './http-method.js';
import { JsonFieldScanner, T_ABSENT, T_BOOL, T_NULL, T_NUMBER, T_OTHER, T_STRING } from './json-scan.js';
import { cacheResultFromBytes, lockResultFromBytes, OUTCOME_ABSENT, OUTCOME_OTHER } from './outcomes.js';
import {
  binaryOr,
  FORMAT_MISMATCH,
  INVALID_BYTES,
  INVALID_DURATION,
  INVALID_JSON,
  INVALID_STATUS,
  MAX_BYTES,
  MAX_DURATION_SECONDS,
  MISSING_FIELD,
  PARSE_OK,
  resetRequestFields,
  type FieldPresence,
  type LineParser,
  type ParseErrorReason,
  type ParseResult,
  type RequestFields,
} from './request-fields.js';

/** Which JSON keys hold what (same shape as the config's `fields`; `null` = the log has no such key). */
export interface JsonFieldNames {
  method: string;
  path: string;
  route: string | null;
  status: string;
  duration: string;
  duration_unit: 'ms' | 's';
  bytes: string | null;
  db_time: string | null;
  cache_time: string | null;
  phase_unit: 'ms' | 's';
  cache: string | null;
  lock: string | null;
  lock_wait: string | null;
}

/** The reference CRM's access log keys. */
export const DEFAULT_JSON_FIELDS: JsonFieldNames = Object.freeze({
  method: 'method',
  path: 'path',
  route: 'route',
  status: 'status',
  duration: 'duration_ms',
  duration_unit: 'ms',
  bytes: 'bytes',
  db_time: 'db_ms',
  cache_time: 'cache_ms',
  phase_unit: 'ms',
  cache: 'cache',
  lock: 'lock',
  lock_wait: 'lock_wait_ms',
});

const F_METHOD = 0;
const F_PATH = 1;
const F_ROUTE = 2;
const F_STATUS = 3;
const F_DURATION = 4;
const F_BYTES = 5;
const F_DB = 6;
const F_CACHE_TIME = 7;
const F_CACHE = 8;
const F_LOCK = 9;
const F_LOCK_WAIT = 10;
const FIELD_COUNT = 11;

const FIELD_KEYS: (keyof JsonFieldNames)[] = [
  'method',
  'path',
  'route',
  'status',
  'duration',
  'bytes',
  'db_time',
  'cache_time',
  'cache',
  'lock',
  'lock_wait',
];
export class JsonLineParser implements LineParser {
  readonly reasons: readonly ParseErrorReason[];
  readonly has: FieldPresence;
  private readonly keyNames: (string | null)[];
  private readonly scanner: JsonFieldScanner;
  // The raw values of the current line (the scanner's; the fallback writes them too).
  private readonly type: Uint8Array;
  private readonly vStart: Int32Array;
  private readonly vEnd: Int32Array;
  private readonly vNum: Float64Array;
  private readonly durationScale: number;
  private readonly phaseScale: number;
  /** Decoded strings of the fallback path. */
  private scratch: Buffer = Buffer.alloc(4096);
  /** Lines that took the JSON.parse fallback (for tests and the bench). */
  fallbacks = 0;

  constructor(fields: JsonFieldNames = DEFAULT_JSON_FIELDS) {
    this.keyNames = FIELD_KEYS.map((k) => fields[k]);
    const seen = new Map<string, string>();
    this.keyNames.forEach((name, f) => {
      if (name === null) return;
      const other = seen.get(name);
      if (other !== undefined)
        throw new Error(`json fields "${other}" and "${FIELD_KEYS[f]}" both use the key "${name}"`);
      seen.set(name, FIELD_KEYS[f] as string);
    });
    this.scanner = new JsonFieldScanner(this.keyNames.map((k) => (k === null ? null : Buffer.from(k, 'utf8'))));
    ({ type: this.type, vStart: this.vStart, vEnd: this.vEnd, vNum: this.vNum } = this.scanner);
    this.durationScale = fields.duration_unit === 'ms' ? 1e-3 : 1;
    this.phaseScale = fields.phase_unit === 'ms' ? 1e-3 : 1;
    this.has = {
      duration: true,
      bytes: fields.bytes !== null,
      upstream: false,
      db: fields.db_time !== null,
      cacheTime: fields.cache_time !== null,
      cache: fields.cache !== null,
      lock: fields.lock !== null,
      lockWait: fields.lock_wait !== null,
    };
    const reasons: ParseErrorReason[] = [
      'empty_line',
      'line_too_long',
      'binary',
      'invalid_json',
      'format_mismatch',
      'missing_field',
      'invalid_status',
      'invalid_duration',
    ];
    if (this.has.bytes) reasons.push('invalid_bytes');
    this.reasons = reasons;
  }

  parse(buf: Buffer, start: number, end: number, out: RequestFields): ParseResult {
    resetRequestFields(out);
    if (this.scanner.scan(buf, start, end)) return this.apply(buf, out);
    return this.fallback(buf, start, end, out);
  }

  private fallback(buf: Buffer, start: number, end: number, out: RequestFields): ParseResult {
    this.fallbacks++;
    this.type.fill(T_ABSENT);
    let obj: unknown;
    try {
      obj = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      return binaryOr(buf, start, end, INVALID_JSON);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return FORMAT_MISMATCH;
    const rec = obj as Record<string, unknown>;
    let used = 0;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const key = this.keyNames[f];
      if (key === null || key === undefined || !Object.prototype.hasOwnProperty.call(rec, key)) continue;
      const v = rec[key];
      if (typeof v === 'string') {
        const need = used + Buffer.byteLength(v, 'utf8');
        if (need > this.scratch.length) {
          const bigger = Buffer.alloc(Math.max(need, this.scratch.length * 2));
          this.scratch.copy(bigger, 0, 0, used);
          this.scratch = bigger;
        }
        const n = this.scratch.write(v, used, 'utf8');
        this.type[f] = T_STRING;
        this.vStart[f] = used;
        this.vEnd[f] = used + n;
        used += n;
      } else if (typeof v === 'number') {
        this.type[f] = T_NUMBER;
        this.vNum[f] = v;
      } else if (typeof v === 'boolean') this.type[f] = T_BOOL;
      else if (v === null) this.type[f] = T_NULL;
      else this.type[f] = T_OTHER;
    }
    return this.apply(this.scratch, out);
  }

  /** Number of a numeric field (a JSON number or a numeric string); NaN when absent/null; -Infinity when not a number. */
  private number(buf: Buffer, f: number): number {
    switch (this.type[f]) {
      case T_NUMBER:
        return this.vNum[f] as number;
      case T_STRING: {
        const v = parseDecimal(buf, this.vStart[f] as number, this.vEnd[f] as number);
        return v === v ? v : -Infinity;
      }
      case T_ABSENT:
      case T_NULL:
        return NaN;
      default:
        return -Infinity;
    }
  }

  /** A time field in seconds: NaN when absent/null, -1 when invalid. */
  private seconds(buf: Buffer, f: number, scale: number): number {
    const t = this.type[f];
    if (t === T_ABSENT || t === T_NULL) return NaN;
    const v = t === T_NUMBER ? (this.vNum[f] as number) : this.number(buf, f);
    const s = v * scale;
    return s >= 0 && s <= MAX_DURATION_SECONDS ? s : -1;
  }

  /** Converts the recorded raw values (`buf` holds the string bytes) into `out`. */
  private apply(buf: Buffer, out: RequestFields): ParseResult {
    const type = this.type;
    const status = type[F_STATUS] === T_NUMBER ? (this.vNum[F_STATUS] as number) : this.number(buf, F_STATUS);
    if (status !== status) return MISSING_FIELD;
    if (!(status >= 100 && status <= 599) || Math.floor(status) !== status) return INVALID_STATUS;
    out.status = status;

    const duration = this.seconds(buf, F_DURATION, this.durationScale);
    const db = this.seconds(buf, F_DB, this.phaseScale);
    const cacheTime = this.seconds(buf, F_CACHE_TIME, this.phaseScale);
    const lockWait = this.seconds(buf, F_LOCK_WAIT, this.phaseScale);
    if (duration < 0 || db < 0 || cacheTime < 0 || lockWait < 0) return INVALID_DURATION;
    out.duration = duration;
    out.db = db;
    out.cacheTime = cacheTime;
    out.lockWait = lockWait;

    const bytes = type[F_BYTES] === T_NUMBER ? (this.vNum[F_BYTES] as number) : this.number(buf, F_BYTES);
    if (bytes === bytes) {
      if (!(bytes >= 0 && bytes <= MAX_BYTES) || Math.floor(bytes) !== bytes) return INVALID_BYTES;
      out.bytes = bytes;
    }

    out.method =
      type[F_METHOD] === T_STRING
        ? methodFromBytes(buf, this.vStart[F_METHOD] as number, this.vEnd[F_METHOD] as number)
        : METHOD_OTHER;
    out.pathBuf = buf;
    out.routeBuf = buf;
    if (type[F_PATH] === T_STRING && (this.vEnd[F_PATH] as number) > (this.vStart[F_PATH] as number)) {
      out.pathStart = this.vStart[F_PATH] as number;
      out.pathEnd = this.vEnd[F_PATH] as number;
    }
    if (type[F_ROUTE] === T_STRING && (this.vEnd[F_ROUTE] as number) > (this.vStart[F_ROUTE] as number)) {
      out.routeStart = this.vStart[F_ROUTE] as number;
      out.routeEnd = this.vEnd[F_ROUTE] as number;
    }
    const tc = type[F_CACHE];
    out.cacheResult =
      tc === T_STRING
        ? cacheResultFromBytes(buf, this.vStart[F_CACHE] as number, this.vEnd[F_CACHE] as number)
        : this.outcome(tc);
    const tl = type[F_LOCK];
    out.lockResult =
      tl === T_STRING
        ? lockResultFromBytes(buf, this.vStart[F_LOCK] as number, this.vEnd[F_LOCK] as number)
        : this.outcome(tl);
    return PARSE_OK;
  }

  /** Outcome of a non-string value: absent for absent/null, else reported but unknown (`other`). */
  private outcome(t: number | undefined): number {
    return t === T_ABSENT || t === T_NULL ? OUTCOME_ABSENT : OUTCOME_OTHER;
  }
}
