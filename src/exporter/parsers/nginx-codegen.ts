/**
 * Code generation of nginx parsers: one format's steps become straight-line JavaScript (see generateParser), which
 * calls the runtime scanning of nginx-scan.ts. nginx-format.ts turns the format text into the steps.
 */

import { isDash, parseDecimal, parseUint } from './bytes.js';
import { methodFromBytes, METHOD_OTHER } from './http-method.js';
import {
  escapedAt,
  findLiteralNative,
  scanRequest,
  scanUpstreamList,
  splitRequest,
  upstreamSum,
  upstreamTimesEnd,
} from './nginx-scan.js';
import { cacheResultFromBytes } from './outcomes.js';
import {
  binaryOr,
  FORMAT_MISMATCH,
  INVALID_BYTES,
  INVALID_DURATION,
  INVALID_STATUS,
  MAX_BYTES,
  PARSE_OK,
  resetRequestFields,
  validSeconds,
  type ParseResult,
  type RequestFields,
} from './request-fields.js';

/** What the parser does with a variable's value. */
export const K_SKIP = 0;
export const K_REQUEST = 1;
export const K_METHOD = 2;
export const K_URI = 3;
export const K_STATUS = 4;
export const K_BODY_BYTES = 5;
export const K_BYTES = 6;
export const K_REQUEST_TIME = 7;
export const K_UPSTREAM_TIME = 8;
export const K_UPSTREAM_LIST = 9;
export const K_CACHE_STATUS = 10;
export const K_TIME_LOCAL = 11;

/** `$time_local` is always `dd/Mon/yyyy:hh:mm:ss +zzzz`. */
const TIME_LOCAL_WIDTH = 26;

const QUOTE = 0x22;

export interface Step {
  kind: number;
  name: string;
  /** The literal that follows the variable (empty only for a last variable that runs to the end of the line). */
  after: Uint8Array;
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

export type ParseFn = (buf: Buffer, start: number, end: number, out: RequestFields) => ParseResult;

/**
 * Generates the parser of one format as straight-line JavaScript: every literal byte is a numeric constant and
 * every step is unrolled, so the JIT sees no loop over steps, no arrays of literals and no dispatch on kinds.
 * Only numbers and fixed identifiers go into the source: nothing the user wrote is evaluated.
 */
export function generateParser(
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
