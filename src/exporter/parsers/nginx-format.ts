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

import {
  generateParser,
  K_BODY_BYTES,
  K_BYTES,
  K_CACHE_STATUS,
  K_METHOD,
  K_REQUEST,
  K_REQUEST_TIME,
  K_SKIP,
  K_STATUS,
  K_TIME_LOCAL,
  K_UPSTREAM_LIST,
  K_UPSTREAM_TIME,
  K_URI,
  type ParseFn,
  type Step,
} from './nginx-codegen.js';
import type { FieldPresence, LineParser, ParseErrorReason, ParseResult, RequestFields } from './request-fields.js';

/** nginx's predefined `combined` format. */
export const COMBINED_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

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
