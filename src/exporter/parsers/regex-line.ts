/**
 * Access-log lines matched by a user's regular expression with named groups (the slow, flexible path: the line
 * is decoded to a string and matched with `RegExp.exec`; it is not anchored for you, write `^...$`).
 *
 * Group names (any other name is rejected when the pattern is compiled, to catch typos):
 * - `status` (required): 3-digit HTTP status; `path` and/or `route` (one required): the request path (templated)
 *   or the application's own route template (used as-is); `method` (optional, else `OTHER`);
 * - `bytes`: response body bytes;
 * - times, each in seconds or, with the `_ms` suffix, in milliseconds:
 *   `duration` / `duration_ms` (total), `upstream` / `upstream_ms` (waiting for the upstream: phases `upstream`
 *   and `network`), `db` / `db_ms` and `cache_time` / `cache_ms` (phases `db`, `cache` and `app`),
 *   `lock_wait` / `lock_wait_ms`;
 * - `cache` (hit|miss|bypass, else other), `lock` (acquired|contended|timeout, else other).
 * A group that did not take part in the match, or captured "" or "-", is absent.
 */

import { methodFromString, METHOD_OTHER } from './http-method.js';
import { cacheResultFromBytes, lockResultFromBytes } from './outcomes.js';
import {
  binaryOr,
  FORMAT_MISMATCH,
  INVALID_BYTES,
  INVALID_DURATION,
  INVALID_STATUS,
  MAX_BYTES,
  MISSING_FIELD,
  PARSE_OK,
  resetRequestFields,
  validSeconds,
  type FieldPresence,
  type LineParser,
  type ParseErrorReason,
  type ParseResult,
  type RequestFields,
} from './request-fields.js';

/** Named groups the regex format understands, with the scale that turns a time group into seconds. */
export const REGEX_GROUPS: Readonly<Record<string, number>> = Object.freeze({
  method: 0,
  path: 0,
  route: 0,
  status: 0,
  bytes: 0,
  cache: 0,
  lock: 0,
  duration: 1,
  duration_ms: 1e-3,
  upstream: 1,
  upstream_ms: 1e-3,
  db: 1,
  db_ms: 1e-3,
  cache_time: 1,
  cache_ms: 1e-3,
  lock_wait: 1,
  lock_wait_ms: 1e-3,
});

export class RegexFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexFormatError';
  }
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const absent = (v: string | undefined): v is undefined => v === undefined || v === '' || v === '-';

/** Group names in a pattern (`(?<name>...)`). */
export function regexGroupNames(pattern: string): string[] {
  return [...pattern.matchAll(/(?<!\\)\(\?<([a-zA-Z_][a-zA-Z0-9_]*)>/g)].map((m) => m[1] as string);
}

export class RegexLineParser implements LineParser {
  readonly reasons: readonly ParseErrorReason[];
  readonly has: FieldPresence;
  readonly pattern: RegExp;
  private scratch = Buffer.alloc(1024);
  private readonly names: string[];

  constructor(pattern: string) {
    try {
      this.pattern = new RegExp(pattern);
    } catch (err) {
      throw new RegexFormatError(`invalid pattern: ${err instanceof Error ? err.message : String(err)}`);
    }
    const names = regexGroupNames(pattern);
    const unknown = names.filter((n) => !(n in REGEX_GROUPS));
    if (unknown.length > 0)
      throw new RegexFormatError(
        `unknown named group(s) ${unknown.map((n) => `"${n}"`).join(', ')}; allowed: ${Object.keys(REGEX_GROUPS).join(', ')}`,
      );
    const g = new Set(names);
    if (!g.has('status')) throw new RegexFormatError('pattern needs a (?<status>...) group');
    if (!g.has('path') && !g.has('route'))
      throw new RegexFormatError('pattern needs a (?<path>...) or (?<route>...) group');
    const pairs: [string, string][] = [
      ['duration', 'duration_ms'],
      ['upstream', 'upstream_ms'],
      ['db', 'db_ms'],
      ['cache_time', 'cache_ms'],
      ['lock_wait', 'lock_wait_ms'],
    ];
    for (const [s, ms] of pairs)
      if (g.has(s) && g.has(ms)) throw new RegexFormatError(`use either (?<${s}>) or (?<${ms}>), not both`);
    this.names = [...g];
    this.has = {
      duration: g.has('duration') || g.has('duration_ms'),
      bytes: g.has('bytes'),
      upstream: g.has('upstream') || g.has('upstream_ms'),
      db: g.has('db') || g.has('db_ms'),
      cacheTime: g.has('cache_time') || g.has('cache_ms'),
      cache: g.has('cache'),
      lock: g.has('lock'),
      lockWait: g.has('lock_wait') || g.has('lock_wait_ms'),
    };
    const reasons: ParseErrorReason[] = [
      'empty_line',
      'line_too_long',
      'binary',
      'format_mismatch',
      'missing_field',
      'invalid_status',
    ];
    if (this.has.duration || this.has.upstream || this.has.db || this.has.cacheTime || this.has.lockWait)
      reasons.push('invalid_duration');
    if (this.has.bytes) reasons.push('invalid_bytes');
    this.reasons = reasons;
  }

  parse(buf: Buffer, start: number, end: number, out: RequestFields): ParseResult {
    resetRequestFields(out);
    const line = buf.toString('utf8', start, end);
    const m = this.pattern.exec(line);
    if (m === null) return binaryOr(buf, start, end, FORMAT_MISMATCH);
    const groups = m.groups ?? {};

    const status = groups.status;
    if (absent(status)) return MISSING_FIELD;
    const st = /^\d{3}$/.test(status) ? Number(status) : 0;
    if (st < 100 || st > 599) return INVALID_STATUS;
    out.status = st;

    for (const name of this.names) {
      const scale = REGEX_GROUPS[name] as number;
      if (scale === 0) continue;
      const text = groups[name];
      if (absent(text)) continue;
      const v = NUMBER.test(text) ? Number(text) * scale : -1;
      if (!validSeconds(v)) return INVALID_DURATION;
      if (name.startsWith('duration')) out.duration = v;
      else if (name.startsWith('upstream')) out.upstream = v;
      else if (name.startsWith('db')) out.db = v;
      else if (name.startsWith('cache')) out.cacheTime = v;
      else out.lockWait = v;
    }

    const bytes = groups.bytes;
    if (!absent(bytes)) {
      const b = /^\d+$/.test(bytes) ? Number(bytes) : -1;
      if (b < 0 || b > MAX_BYTES) return INVALID_BYTES;
      out.bytes = b;
    }

    out.method = absent(groups.method) ? METHOD_OTHER : methodFromString(groups.method);
    let used = 0;
    const put = (text: string): number => {
      const need = used + Buffer.byteLength(text, 'utf8');
      if (need > this.scratch.length) {
        const bigger = Buffer.alloc(need * 2);
        this.scratch.copy(bigger, 0, 0, used);
        this.scratch = bigger;
      }
      const s = used;
      used += this.scratch.write(text, used, 'utf8');
      return s;
    };
    out.pathBuf = this.scratch;
    out.routeBuf = this.scratch;
    if (!absent(groups.path)) {
      out.pathStart = put(groups.path);
      out.pathEnd = used;
    }
    if (!absent(groups.route)) {
      out.routeStart = put(groups.route);
      out.routeEnd = used;
    }
    // pathBuf/routeBuf may have been replaced by a bigger scratch while writing the second string.
    out.pathBuf = this.scratch;
    out.routeBuf = this.scratch;
    if (!absent(groups.cache)) {
      const s = put(groups.cache);
      out.cacheResult = cacheResultFromBytes(this.scratch, s, used);
    }
    if (!absent(groups.lock)) {
      const s = put(groups.lock);
      out.lockResult = lockResultFromBytes(this.scratch, s, used);
    }
    return PARSE_OK;
  }
}
