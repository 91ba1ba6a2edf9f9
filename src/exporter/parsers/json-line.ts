/**
 * JSON access-log lines: three paths, all feeding the same field conversion (`apply`), so they agree.
 *
 * 1. Learned layout (json-layout.ts): code generated for the key sequence of the lines seen so far; handles the
 *    usual line without a loop over keys. Returns "no" for anything else.
 * 2. Generic byte scanner (no string, no object per line): one pass over `{"key":value,...}` in any key order and
 *    with any whitespace, recording the value of each configured key (a string's byte range or a number) and
 *    validating the rest of the syntax as it skips it (string values it does not read are searched four bytes at
 *    a time; long ones are not validated byte by byte).
 * 3. `JSON.parse` fallback for what the scanner does not handle itself: an escape inside a configured string
 *    field, a nested object or array, or anything that may be invalid (then `JSON.parse` decides between a valid
 *    unusual line and `invalid_json`).
 *
 * Field semantics: the status is required (`missing_field` otherwise) and may be a number or a numeric string;
 * durations are converted to seconds by `duration_unit`/`phase_unit`; `null` counts as absent; when the route
 * key holds a non-empty string it is the route (used as-is), else `path` is templated.
 */

import { methodFromBytes, METHOD_OTHER } from './http-method.js';
import {
  compileJsonLayout,
  T_ABSENT,
  T_BOOL,
  T_NULL,
  T_NUMBER,
  T_OTHER,
  T_STRING,
  type LayoutKey,
  type LayoutParser,
} from './json-layout.js';
import {
  binaryOr,
  cacheResultFromBytes,
  FORMAT_MISMATCH,
  INVALID_BYTES,
  INVALID_DURATION,
  INVALID_JSON,
  INVALID_STATUS,
  lockResultFromBytes,
  MAX_BYTES,
  MAX_DURATION_SECONDS,
  MISSING_FIELD,
  OUTCOME_ABSENT,
  PARSE_OK,
  parseDecimal,
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const TABLE_SIZE = 256;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Key positions remembered from the previous line. */
const MAX_SHAPE = 32;

/** Bytes that end or interrupt a JSON string: quote, backslash, control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/** A key's bytes as little-endian 32-bit words: the full words, then the last four bytes (overlapping). */
function keyWords(key: Buffer): Int32Array {
  const n = key.length;
  if (n < 4) return new Int32Array(0);
  const words: number[] = [];
  for (let j = 0; j + 4 <= n - (n % 4 === 0 ? 4 : 0); j += 4) words.push(key.readInt32LE(j));
  words.push(key.readInt32LE(n - 4));
  return Int32Array.from(words);
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isHexDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
const keyHash = (len: number, first: number, last: number): number => (len * 31 + first * 7 + last) & (TABLE_SIZE - 1);

export class JsonLineParser implements LineParser {
  readonly reasons: readonly ParseErrorReason[];
  readonly has: FieldPresence;
  private readonly keys: (Buffer | null)[];
  private readonly shapeKey: (Buffer | undefined)[] = new Array<Buffer | undefined>(MAX_SHAPE).fill(undefined);
  private readonly shapeWords: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(MAX_SHAPE).fill(
    undefined,
  );
  private readonly shapeField = new Int16Array(MAX_SHAPE);
  /** A DataView of the buffer being scanned (the tailer reuses one buffer, so this is rebuilt once per read). */
  private dv: DataView = new DataView(new ArrayBuffer(8));
  private dvFor: Buffer | undefined;
  /** Value type per key position of the line read last (T_STRING, T_NUMBER, T_BOOL, T_NULL). */
  private readonly shapeType = new Uint8Array(MAX_SHAPE);
  private readonly keyNames: (string | null)[];
  /** keyHash -> field + 1 (linear probing). */
  private readonly table = new Int8Array(TABLE_SIZE);
  private readonly durationScale: number;
  private readonly phaseScale: number;
  // Per-field raw values of the current line.
  private readonly type = new Uint8Array(FIELD_COUNT);
  private readonly vStart = new Int32Array(FIELD_COUNT);
  private readonly vEnd = new Int32Array(FIELD_COUNT);
  private readonly vNum = new Float64Array(FIELD_COUNT);
  /** Decoded strings of the fallback path. */
  private scratch: Buffer = Buffer.alloc(4096);
  /** Lines that took the JSON.parse fallback (for tests and the bench). */
  fallbacks = 0;
  /** The learned-layout fast path, once the generic scanner has read a line. */
  private layout: LayoutParser | undefined;
  private layoutKeys: LayoutKey[] = [];
  /** Lines tried with / not fitting the current layout. */
  private layoutLines = 0;
  private layoutBails = 0;
  /** Times a layout was compiled (tests). */
  layoutCompiles = 0;
  /** Keys of the line the generic scanner read last. */
  private lineKeys = 0;

  constructor(fields: JsonFieldNames = DEFAULT_JSON_FIELDS) {
    this.keyNames = FIELD_KEYS.map((k) => fields[k]);
    this.keys = this.keyNames.map((k) => (k === null ? null : Buffer.from(k, 'utf8')));
    const seen = new Map<string, string>();
    this.keyNames.forEach((name, f) => {
      if (name === null) return;
      const other = seen.get(name);
      if (other !== undefined)
        throw new Error(`json fields "${other}" and "${FIELD_KEYS[f]}" both use the key "${name}"`);
      seen.set(name, FIELD_KEYS[f] as string);
      const key = this.keys[f] as Buffer;
      let h = keyHash(key.length, key[0] as number, key[key.length - 1] as number);
      while (this.table[h] !== 0) h = (h + 1) & (TABLE_SIZE - 1);
      this.table[h] = f + 1;
    });
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
    const type = this.type;
    for (let f = 0; f < FIELD_COUNT; f++) type[f] = T_ABSENT;
    if (buf !== this.dvFor) {
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.dvFor = buf;
    }
    const layout = this.layout;
    if (layout !== undefined) {
      this.layoutLines++;
      if (layout(buf, this.dv, start, end, type, this.vStart, this.vEnd, this.vNum)) return this.apply(buf, out);
      this.layoutBails++;
      for (let f = 0; f < FIELD_COUNT; f++) type[f] = T_ABSENT;
    }
    if (this.scan(buf, start, end)) {
      if (this.lineKeys <= MAX_SHAPE && (layout === undefined || this.layoutBails > 0)) this.learn();
      return this.apply(buf, out);
    }
    return this.fallback(buf, start, end, out);
  }

  /**
   * After the generic scanner read a line, (re)compile the learned-layout fast path (json-layout.ts) from that
   * line's keys: the first time; when the line extends the current layout with more keys at the end (optional
   * keys); or when the layout failed on over a quarter of at least 4096 lines (the log's format changed).
   */
  private learn(): void {
    const n = this.lineKeys;
    const current = this.layoutKeys;
    if (this.layout !== undefined) {
      let extends_ = n > current.length;
      for (let k = 0; extends_ && k < current.length; k++)
        extends_ = (this.shapeKey[k] as Buffer).equals(current[k]?.bytes as Uint8Array);
      const changed = this.layoutLines >= 4096 && this.layoutBails * 4 > this.layoutLines;
      if (!extends_ && !changed) return;
    }
    const keys: LayoutKey[] = [];
    for (let k = 0; k < n; k++)
      keys.push({
        bytes: this.shapeKey[k] as Buffer,
        field: this.shapeField[k] as number,
        type: this.shapeType[k] as number,
      });
    this.layout = compileJsonLayout(keys).fn;
    this.layoutKeys = keys;
    this.layoutCompiles++;
    this.layoutLines = 0;
    this.layoutBails = 0;
  }

  /** Field id of the key `buf[s, e)`, or -1. */
  private field(buf: Buffer, s: number, e: number): number {
    const len = e - s;
    if (len === 0) return -1;
    let h = keyHash(len, buf[s] as number, buf[e - 1] as number);
    const table = this.table;
    for (;;) {
      const f = (table[h] as number) - 1;
      if (f < 0) return -1;
      const key = this.keys[f] as Buffer;
      if (key.length === len) {
        let j = 0;
        while (j < len && buf[s + j] === key[j]) j++;
        if (j === len) return f;
      }
      h = (h + 1) & (TABLE_SIZE - 1);
    }
  }

  /**
   * The fast path. False means "let JSON.parse decide" (unusual or invalid line); no field is trusted then.
   * Two shortcuts keep it near the cost of reading the bytes once: the key sequence of the previous line is
   * remembered (lines of one log have the same keys in the same order), so a key is usually recognised by
   * comparing it with the expected one; and string values the exporter does not read are skipped with a native
   * search for their closing quote (their contents are not validated, exactly as in the learned layout, so a line
   * gets the same result whichever path reads it and whatever lines came before).
   */
  private scan(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    while (i < end && isWs(buf[i] as number)) i++;
    if (i >= end || buf[i] !== 0x7b /* { */) return false;
    i++;
    while (i < end && isWs(buf[i] as number)) i++;
    if (i < end && buf[i] === 0x7d /* } */) {
      i++;
      this.lineKeys = 0;
    } else {
      const shapeKey = this.shapeKey;
      const shapeWords = this.shapeWords;
      const dv = this.dv;
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
            if (ks + n < end && buf[ks + n] === QUOTE) {
              let same: boolean;
              if (n >= 4) {
                // four bytes per comparison (unaligned little-endian loads; all inside the line)
                const words = shapeWords[k] as Int32Array;
                const last = words.length - 1;
                same = true;
                for (let w = 0; w < last; w++) {
                  if (dv.getInt32(ks + 4 * w, true) !== words[w]) {
                    same = false;
                    break;
                  }
                }
                if (same && dv.getInt32(ks + n - 4, true) !== words[last]) same = false;
              } else {
                let j = 0;
                while (j < n && buf[ks + j] === exp[j]) j++;
                same = j === n;
              }
              if (same) {
                f = shapeField[k] as number;
                i = ks + n + 1;
              }
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
          f = this.field(buf, ks, i);
          if (k < MAX_SHAPE) {
            const key = f >= 0 ? (this.keys[f] as Buffer) : Buffer.from(buf.subarray(ks, i));
            shapeKey[k] = key;
            shapeWords[k] = keyWords(key);
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
        // value
        const c = buf[i] as number;
        if (c === QUOTE) {
          const vs = ++i;
          let plain = false;
          if (f < 0) {
            const q = buf.indexOf(QUOTE, vs);
            if (q < 0 || q >= end) return false;
            if (buf[q - 1] !== BACKSLASH) {
              i = q;
              plain = true;
            }
          }
          if (!plain) {
            // four bytes at a time while none of them is a quote, a backslash or a control character
            while (i + 4 <= end) {
              const w = dv.getInt32(i, true);
              const q = w ^ 0x22222222;
              const b = w ^ 0x5c5c5c5c;
              if (((((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | ((w - 0x20202020) & ~w)) & 0x80808080) !== 0)
                break;
              i += 4;
            }
            for (;;) {
              if (i >= end) return false;
              const d = buf[i] as number;
              if (STRING_STOP[d] === 0) {
                i++;
                continue;
              }
              if (d === QUOTE) break;
              if (d < 0x20) return false;
              if (d === BACKSLASH) {
                if (f >= 0) return false;
                const n = buf[i + 1] as number;
                if (n === 0x75 /* u */) {
                  if (
                    i + 5 >= end ||
                    !isHexDigit(buf[i + 2] as number) ||
                    !isHexDigit(buf[i + 3] as number) ||
                    !isHexDigit(buf[i + 4] as number) ||
                    !isHexDigit(buf[i + 5] as number)
                  )
                    return false;
                  i += 6;
                  continue;
                }
                if (
                  n !== QUOTE &&
                  n !== BACKSLASH &&
                  n !== 0x2f &&
                  n !== 0x62 &&
                  n !== 0x66 &&
                  n !== 0x6e &&
                  n !== 0x72 &&
                  n !== 0x74
                )
                  return false;
                i += 2;
                continue;
              }
              i++;
            }
          }
          if (f >= 0) {
            this.type[f] = T_STRING;
            this.vStart[f] = vs;
            this.vEnd[f] = i;
          }
          if (k < MAX_SHAPE) this.shapeType[k] = T_STRING;
          i++;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          // number, parsed while it is scanned (JSON grammar; exponents and > 15 digits go to parseDecimal)
          const vs = i;
          if (c === 0x2d) i++;
          let d = buf[i] as number;
          if (d < 0x30 || d > 0x39) return false;
          if (d === 0x30 && (buf[i + 1] as number) >= 0x30 && (buf[i + 1] as number) <= 0x39 && i + 1 < end)
            return false; // leading zero
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
          if ((d === 0x65 || d === 0x45) && i < end) {
            i++;
            if (buf[i] === 0x2b || buf[i] === 0x2d) i++;
            while (i < end && (buf[i] as number) >= 0x30 && (buf[i] as number) <= 0x39) i++;
            v = parseDecimal(buf, vs, i);
            if (v !== v) return false;
          } else if (digits + frac > 15) {
            v = parseDecimal(buf, vs, i);
          } else {
            v = frac === 0 ? mant : mant / (POW10[frac] as number);
            if (c === 0x2d) v = -v;
          }
          if (f >= 0) {
            this.type[f] = T_NUMBER;
            this.vNum[f] = v;
          }
          if (k < MAX_SHAPE) this.shapeType[k] = T_NUMBER;
        } else if (
          c === 0x74 /* t */ &&
          i + 4 <= end &&
          buf[i + 1] === 0x72 &&
          buf[i + 2] === 0x75 &&
          buf[i + 3] === 0x65
        ) {
          i += 4;
          if (f >= 0) this.type[f] = T_BOOL;
          if (k < MAX_SHAPE) this.shapeType[k] = T_BOOL;
        } else if (
          c === 0x66 /* f */ &&
          i + 5 <= end &&
          buf[i + 1] === 0x61 &&
          buf[i + 2] === 0x6c &&
          buf[i + 3] === 0x73 &&
          buf[i + 4] === 0x65
        ) {
          i += 5;
          if (f >= 0) this.type[f] = T_BOOL;
          if (k < MAX_SHAPE) this.shapeType[k] = T_BOOL;
        } else if (
          c === 0x6e /* n */ &&
          i + 4 <= end &&
          buf[i + 1] === 0x75 &&
          buf[i + 2] === 0x6c &&
          buf[i + 3] === 0x6c
        ) {
          i += 4;
          if (f >= 0) this.type[f] = T_NULL;
          if (k < MAX_SHAPE) this.shapeType[k] = T_NULL;
        } else {
          return false; // nested value, or invalid
        }
        let sep = buf[i];
        if (sep !== 0x2c && sep !== 0x7d) {
          while (i < end && isWs(buf[i] as number)) i++;
          sep = buf[i];
        }
        if (i >= end) return false;
        i++;
        if (sep === 0x7d /* } */) {
          this.lineKeys = k + 1;
          break;
        }
        if (sep !== 0x2c /* , */) return false;
        while (i < end && isWs(buf[i] as number)) i++;
      }
    }
    while (i < end && isWs(buf[i] as number)) i++;
    return i === end;
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
    return t === T_ABSENT || t === T_NULL ? OUTCOME_ABSENT : 3;
  }
}
