/**
 * Compiles an nginx `log_format` into a byte-level line parser (no regex, no per-line strings).
 *
 * Accepts `combined` by name, a bare format string (`$remote_addr - $remote_user [$time_local] "$request" ...`),
 * or the directive as pasted from nginx.conf (`log_format main escape=json '...' '...';`). The format is a
 * sequence of `$variables` (or `${variables}`) and literals; each variable's value runs until the literal that
 * follows it (a `"` preceded by an odd number of backslashes does not end a value, for `escape=json`).
 *
 * Variables the parser understands (everything else is skipped):
 * - `$request` ("GET /path?q HTTP/1.1", split into method, path and protocol; `-` means no request line),
 *   `$request_method`, `$request_uri` / `$uri` / `$document_uri` (preferred over `$request` when both exist);
 * - `$status` (3 digits, 100-599), `$body_bytes_sent` (else `$bytes_sent`);
 * - `$request_time` (seconds); `$upstream_response_time` (seconds; `-`, or a list "0.010, 0.020" or
 *   "0.010 : 0.020" over several upstreams, which is summed); other `$upstream_*` lists are skipped whole;
 * - `$upstream_cache_status` (HIT/MISS/BYPASS/... as the cache outcome); `$time_local` (fixed width, has a space).
 */

import { methodFromBytes, METHOD_OTHER } from './http-method.js';
import {
  binaryOr,
  cacheResultFromBytes,
  FORMAT_MISMATCH,
  INVALID_BYTES,
  INVALID_DURATION,
  INVALID_STATUS,
  isDash,
  MAX_BYTES,
  PARSE_OK,
  parseDecimal,
  parseUint,
  resetRequestFields,
  validSeconds,
  type FieldPresence,
  type LineParser,
  type ParseErrorReason,
  type ParseResult,
  type RequestFields,
} from './request-fields.js';

/** nginx's predefined `combined` format. */
export const COMBINED_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

const K_SKIP = 0;
const K_REQUEST = 1;
const K_METHOD = 2;
const K_URI = 3;
const K_STATUS = 4;
const K_BODY_BYTES = 5;
const K_BYTES = 6;
const K_REQUEST_TIME = 7;
const K_UPSTREAM_TIME = 8;
const K_UPSTREAM_LIST = 9;
const K_CACHE_STATUS = 10;
const K_TIME_LOCAL = 11;

const KINDS: Record<string, number> = {
  request: K_REQUEST,
  request_method: K_METHOD,
  request_uri: K_URI,
  uri: K_URI,
  document_uri: K_URI,
  status: K_STATUS,
  body_bytes_sent: K_BODY_BYTES,
  bytes_sent: K_BYTES,
  request_time: K_REQUEST_TIME,
  upstream_response_time: K_UPSTREAM_TIME,
  upstream_addr: K_UPSTREAM_LIST,
  upstream_status: K_UPSTREAM_LIST,
  upstream_connect_time: K_UPSTREAM_LIST,
  upstream_header_time: K_UPSTREAM_LIST,
  upstream_response_length: K_UPSTREAM_LIST,
  upstream_bytes_received: K_UPSTREAM_LIST,
  upstream_bytes_sent: K_UPSTREAM_LIST,
  upstream_cache_status: K_CACHE_STATUS,
  time_local: K_TIME_LOCAL,
};
/** `$time_local` is always `dd/Mon/yyyy:hh:mm:ss +zzzz`. */
const TIME_LOCAL_WIDTH = 26;

export class NginxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NginxFormatError';
  }
}

export interface NginxFormatToken {
  literal?: string;
  variable?: string;
}

/**
 * Reduces what the user pasted to the bare format string: resolves `combined`, strips `log_format NAME
 * [escape=...]` and the trailing `;`, and joins the quoted pieces nginx concatenates.
 */
export function normalizeLogFormat(text: string): string {
  let s = text.trim();
  if (s.endsWith(';')) s = s.slice(0, -1).trimEnd();
  const directive = /^log_format\s+(\S+)\s*/.exec(s);
  if (directive) {
    s = s.slice(directive[0].length);
    if (s === '') {
      if (directive[1] === 'combined') return COMBINED_FORMAT;
      throw new NginxFormatError(`log_format ${directive[1] ?? ''} has no format string: paste the whole directive`);
    }
  }
  const escape = /^escape=\S+\s*/.exec(s);
  if (escape) s = s.slice(escape[0].length);
  if (s === 'combined') return COMBINED_FORMAT;
  if (!s.startsWith("'") && !s.startsWith('"')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const quote = s[i];
    if (quote !== "'" && quote !== '"')
      throw new NginxFormatError(`unexpected "${s.slice(i, i + 10)}" between quoted parts of log_format`);
    i++;
    let closed = false;
    while (i < s.length) {
      const c = s[i] as string;
      if (c === '\\' && i + 1 < s.length) {
        const n = s[i + 1] as string;
        out += n === quote || n === '\\' ? n : c + n;
        i += 2;
        continue;
      }
      if (c === quote) {
        closed = true;
        i++;
        break;
      }
      out += c;
      i++;
    }
    if (!closed) throw new NginxFormatError('unterminated quote in log_format');
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  }
  return out;
}

/** Splits a bare format string into literals and variables. */
export function tokenizeLogFormat(format: string): NginxFormatToken[] {
  const tokens: NginxFormatToken[] = [];
  let literal = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (c === '$') {
      let name: string | undefined;
      let next = i;
      const braced = /^\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}/.exec(format.slice(i));
      const bare = /^\$([a-zA-Z_][a-zA-Z0-9_]*)/.exec(format.slice(i));
      if (braced) {
        name = braced[1];
        next = i + braced[0].length;
      } else if (bare) {
        name = bare[1];
        next = i + bare[0].length;
      }
      if (name !== undefined) {
        if (literal) tokens.push({ literal });
        literal = '';
        tokens.push({ variable: name });
        i = next;
        continue;
      }
    }
    literal += c;
    i++;
  }
  if (literal) tokens.push({ literal });
  return tokens;
}

interface Step {
  kind: number;
  name: string;
  /** The literal that follows the variable (empty only for a last variable that runs to the end of the line). */
  after: Uint8Array;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

/** First index ≥ from where `lit` occurs in buf[from, end) (memchr for its first byte), skipping backslash-escaped quotes; -1 if none. */
function findLiteralNative(buf: Buffer, from: number, end: number, lit: Uint8Array): number {
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
function scanUpstreamList(buf: Buffer, pos: number, end: number): number {
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
const upstreamSum = new Float64Array(1);

/**
 * One pass over an `$upstream_response_time` value at `pos` ("0.010", "-", "0.010, 0.020", "0.5 : 0.25"): returns
 * where it ends (like scanUpstreamList) and leaves the sum in upstreamSum[0].
 */
function upstreamTimesEnd(buf: Buffer, pos: number, end: number): number {
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
function splitRequest(
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
function scanRequest(
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
function escapedAt(buf: Buffer, from: number, i: number): boolean {
  let k = i - 1;
  while (k >= from && buf[k] === BACKSLASH) k--;
  return (i - 1 - k) % 2 === 1;
}

/** Variables whose values are usually long (headers, cookies, query strings): searched with memchr. */
const LONG_VARIABLE = /^(http_|sent_http_|cookie_|arg_)|^(args|query_string|request_body|request_uri)$/;

const HELPERS = {
  PARSE_OK,
  INVALID_STATUS,
  INVALID_BYTES,
  INVALID_DURATION,
  MAX_BYTES,
  resetRequestFields,
  methodFromBytes,
  cacheResultFromBytes,
  parseDecimal,
  parseUint,
  validSeconds,
  isDash,
  splitRequest,
  scanRequest,
  METHOD_OTHER,
  escapedAt,
  scanUpstreamList,
  upstreamTimesEnd,
  upstreamSum,
  findLiteralNative,
  mismatch: (buf: Buffer, start: number, end: number): ParseResult => binaryOr(buf, start, end, FORMAT_MISMATCH),
};

type ParseFn = (buf: Buffer, start: number, end: number, out: RequestFields) => ParseResult;

/**
 * Generates the parser of one format as straight-line JavaScript: every literal byte is a numeric constant and
 * every step is unrolled, so the JIT sees no loop over steps, no arrays of literals and no dispatch on kinds.
 * Only numbers and fixed identifiers go into the source: nothing the user wrote is evaluated.
 */
function generateParser(
  lead: Uint8Array,
  steps: readonly Step[],
  hasMethod: boolean,
  hasUri: boolean,
  hasBodyBytes: boolean,
): { fn: ParseFn; source: string } {
  const lines: string[] = [];
  const emit = (line: string): void => {
    lines.push(line);
  };
  /** Condition "buf[at + j] === lit[j] for all j" with constants. */
  const litEq = (lit: Uint8Array, at: string): string =>
    [...lit].map((b, j) => `buf[${at}${j === 0 ? '' : ` + ${j}`}] === ${b}`).join(' && ') || 'true';

  emit('resetRequestFields(out);');
  emit('out.pathBuf = buf;');
  emit('let pos = start;');
  emit('let ve = 0;');
  emit('let vs = 0;');
  emit('let bad = null;');
  if (lead.length > 0) {
    emit(`if (end - start < ${lead.length} || !(${litEq(lead, 'start')})) return mismatch(buf, start, end);`);
    emit(`pos = start + ${lead.length};`);
  }
  steps.forEach((step, k) => {
    const after = step.after;
    const n = after.length;
    emit(`// step ${k}: variable #${k} (kind ${step.kind})`);
    emit('vs = pos;');
    if (step.kind === K_UPSTREAM_TIME || step.kind === K_UPSTREAM_LIST) {
      emit(
        step.kind === K_UPSTREAM_TIME
          ? 've = upstreamTimesEnd(buf, pos, end);'
          : 've = scanUpstreamList(buf, pos, end);',
      );
      if (n > 0) emit(`if (ve + ${n} > end || !(${litEq(after, 've')})) return mismatch(buf, start, end);`);
      else emit('if (ve !== end) return mismatch(buf, start, end);');
    } else if (step.kind === K_TIME_LOCAL) {
      emit(`ve = pos + ${TIME_LOCAL_WIDTH};`);
      emit(`if (ve + ${n} > end${n > 0 ? ` || !(${litEq(after, 've')})` : ''}) return mismatch(buf, start, end);`);
    } else if (n === 0) {
      emit('ve = end;');
    } else if (step.kind === K_REQUEST && after[0] === QUOTE) {
      emit(`ve = scanRequest(buf, pos, end, out, ${!hasMethod}, ${!hasUri});`);
      emit(`if (ve < 0 || ve + ${n} > end || !(${litEq(after, 've')})) {`);
      emit('  out.method = METHOD_OTHER;');
      emit('  out.pathStart = -1;');
      emit('  out.pathEnd = -1;');
      emit('  ve = -1;');
      emit(`  for (let i = pos, last = end - ${n}; i <= last; i++) {`);
      emit(`    if (${litEq(after, 'i')}) {`);
      emit('      if (buf[i - 1] === 92 && i > pos && escapedAt(buf, pos, i)) continue;');
      emit('      ve = i;');
      emit('      break;');
      emit('    }');
      emit('  }');
      emit('  if (ve < 0) return mismatch(buf, start, end);');
      if (!hasMethod || !hasUri) emit(`  splitRequest(buf, vs, ve, out, ${!hasMethod}, ${!hasUri});`);
      emit('}');
    } else if (LONG_VARIABLE.test(step.name)) {
      const lit = `LIT${k}`;
      emit(`ve = findLiteralNative(buf, pos, end, ${lit});`);
      emit('if (ve < 0) return mismatch(buf, start, end);');
    } else {
      const first = after[0] as number;
      emit('ve = -1;');
      emit(`for (let i = pos, last = end - ${n}; i <= last; i++) {`);
      emit(`  if (${litEq(after, 'i')}) {`);
      if (first === QUOTE) emit('    if (buf[i - 1] === 92 && i > pos && escapedAt(buf, pos, i)) continue;');
      emit('    ve = i;');
      emit('    break;');
      emit('  }');
      emit('}');
      emit('if (ve < 0) return mismatch(buf, start, end);');
    }
    emit(`pos = ve + ${n};`);
    switch (step.kind) {
      case K_REQUEST:
        if (!(n > 0 && after[0] === QUOTE) && (!hasMethod || !hasUri))
          emit(`splitRequest(buf, vs, ve, out, ${!hasMethod}, ${!hasUri});`);
        break;
      case K_METHOD:
        emit('out.method = methodFromBytes(buf, vs, ve);');
        break;
      case K_URI:
        emit('if (!isDash(buf, vs, ve)) { out.pathStart = vs; out.pathEnd = ve; }');
        break;
      case K_STATUS:
        emit('{');
        emit('  const a = buf[vs] - 48, b = buf[vs + 1] - 48, c = buf[vs + 2] - 48;');
        emit(
          '  if (ve - vs === 3 && a >= 1 && a <= 5 && b >= 0 && b <= 9 && c >= 0 && c <= 9) out.status = a * 100 + b * 10 + c;',
        );
        emit('  else if (bad === null) bad = INVALID_STATUS;');
        emit('}');
        break;
      case K_BODY_BYTES:
      case K_BYTES:
        if (step.kind === K_BYTES && hasBodyBytes) break;
        emit('{');
        emit('  const b = parseUint(buf, vs, ve);');
        emit('  if (b >= 0 && b <= MAX_BYTES) out.bytes = b;');
        emit('  else if (bad === null) bad = INVALID_BYTES;');
        emit('}');
        break;
      case K_REQUEST_TIME:
        emit('{');
        emit('  const d = parseDecimal(buf, vs, ve);');
        emit('  if (validSeconds(d)) out.duration = d;');
        emit('  else if (bad === null) bad = INVALID_DURATION;');
        emit('}');
        break;
      case K_UPSTREAM_TIME:
        emit('{');
        emit('  const u = upstreamSum[0];');
        emit('  if (u < 0) { if (bad === null) bad = INVALID_DURATION; }');
        emit('  else out.upstream = u;');
        emit('}');
        break;
      case K_CACHE_STATUS:
        emit('out.cacheResult = cacheResultFromBytes(buf, vs, ve);');
        break;
    }
  });
  emit('if (pos !== end) return mismatch(buf, start, end);');
  emit('return bad === null ? PARSE_OK : bad;');

  const literals = steps.map((s, k) => `const LIT${k} = L[${k}];`).join('\n');
  const source = `"use strict";\nconst { ${Object.keys(HELPERS).join(', ')} } = H;\n${literals}\nreturn function parseNginxLine(buf, start, end, out) {\n  ${lines.join('\n  ')}\n};`;
  // Generated from numbers and fixed identifiers only (see above).
  const factory = new Function('H', 'L', source) as (h: typeof HELPERS, l: Uint8Array[]) => ParseFn;
  return {
    fn: factory(
      HELPERS,
      steps.map((s) => s.after),
    ),
    source,
  };
}

export class NginxLineParser implements LineParser {
  readonly format: string;
  readonly reasons: readonly ParseErrorReason[];
  readonly has: FieldPresence;
  /** The generated parse function's source (for debugging). */
  readonly source: string;
  private readonly fn: ParseFn;

  constructor(logFormat: string) {
    const format = normalizeLogFormat(logFormat);
    this.format = format;
    const tokens = tokenizeLogFormat(format);
    let lead = '';
    let k = 0;
    if (tokens[0]?.literal !== undefined) {
      lead = tokens[0].literal;
      k = 1;
    }
    const steps: Step[] = [];
    for (; k < tokens.length; k++) {
      const tok = tokens[k] as NginxFormatToken;
      const name = tok.variable as string;
      const next = tokens[k + 1];
      let after = '';
      if (next?.literal !== undefined) {
        after = next.literal;
        k++;
      } else if (next?.variable !== undefined) {
        throw new NginxFormatError(
          `$${name} is directly followed by $${next.variable}: the exporter cannot tell where one ends; put a literal between them`,
        );
      }
      steps.push({ kind: KINDS[name] ?? K_SKIP, name, after: Buffer.from(after, 'utf8') });
    }
    const kinds = new Set(steps.map((s) => s.kind));
    if (!kinds.has(K_STATUS)) throw new NginxFormatError('log_format has no $status');
    if (!kinds.has(K_REQUEST) && !kinds.has(K_URI))
      throw new NginxFormatError('log_format has neither $request nor $request_uri/$uri');
    const hasBytes = kinds.has(K_BODY_BYTES) || kinds.has(K_BYTES);
    this.has = {
      duration: kinds.has(K_REQUEST_TIME),
      bytes: hasBytes,
      upstream: kinds.has(K_UPSTREAM_TIME),
      db: false,
      cacheTime: false,
      cache: kinds.has(K_CACHE_STATUS),
      lock: false,
      lockWait: false,
    };
    const reasons: ParseErrorReason[] = ['empty_line', 'line_too_long', 'binary', 'format_mismatch', 'invalid_status'];
    if (this.has.duration || this.has.upstream) reasons.push('invalid_duration');
    if (hasBytes) reasons.push('invalid_bytes');
    this.reasons = reasons;
    const gen = generateParser(
      Buffer.from(lead, 'utf8'),
      steps,
      kinds.has(K_METHOD),
      kinds.has(K_URI),
      kinds.has(K_BODY_BYTES),
    );
    this.fn = gen.fn;
    this.source = gen.source;
  }

  parse(buf: Buffer, start: number, end: number, out: RequestFields): ParseResult {
    return this.fn(buf, start, end, out);
  }
}

/** Compiles a log_format (see the module comment); throws NginxFormatError when it cannot be parsed reliably. */
export function compileNginxFormat(logFormat: string): NginxLineParser {
  return new NginxLineParser(logFormat);
}
