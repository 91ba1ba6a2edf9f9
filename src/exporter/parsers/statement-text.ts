/**
 * What of a pg_stat_statements text may be shown on /metrics (pure, no I/O).
 *
 * pg_stat_statements replaces constants by `$n` only in the statements the planner sees (SELECT, INSERT, UPDATE,
 * DELETE, MERGE, VALUES, TABLE and WITH ... of these). Everything else is a *utility* statement, and PostgreSQL
 * 13-15 keep its text verbatim: `CREATE ROLE app PASSWORD 'secret'`, `SET ... = 'token'`, `DO $$ ... $$`, `COPY`,
 * `SELECT ... INTO` (a CREATE TABLE AS in disguise). Their queryid is no better: it is a hash of that verbatim text
 * (`hashtextextended(query, 0)`), which a weak password cannot survive offline. So:
 * - `isPlannableStatement()` decides from the first keyword whether a statement may be exported at all; the
 *   collector leaves every other one out of all its series (text and queryid). `PLANNABLE_STATEMENT_SQL` is the
 *   same rule for the server, so the top N are N exportable statements.
 * - `redactStatement()` still removes what could carry a secret from an exportable text, since even those are
 *   sometimes kept as sent (an entry evicted between parse and execution is stored without normalisation): every
 *   string, bit-string and dollar-quoted literal and every number becomes `?`, comments are dropped.
 * The lexer follows PostgreSQL's (scan.l) where that matters for secrets and errs towards hiding more: a plain
 * `'...'` literal holding a backslash may be an escape under `standard_conforming_strings = off`, so everything from
 * it to the end is hidden; an unterminated literal or comment (the text was cut) runs to the end.
 */

/** First keywords of the statements whose constants pg_stat_statements replaces (lower case). */
export const PLANNABLE_KEYWORDS = ['select', 'insert', 'update', 'delete', 'merge', 'values', 'table', 'with'] as const;

const PLANNABLE = new Set<string>(PLANNABLE_KEYWORDS);

/**
 * The rule of `isPlannableStatement()` as a PostgreSQL boolean expression over `column` (raw text: comments and
 * literals still in it, which only makes it stricter).
 */
export function plannableStatementSql(column: string): string {
  const comment = String.raw`--[^\n]*(\n|$)|/\*([^*]|\*+[^*/])*\*+/`;
  return (
    `${column} ~* '^(\\s|\\(|${comment})*(${PLANNABLE_KEYWORDS.join('|')})\\M'` +
    ` AND (${column} !~* '\\minto\\M' OR ${column} ~* '\\m(insert|merge)\\s+into\\M')`
  );
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** End (exclusive) of a quoted literal opened at `start`; text.length when unterminated or when hidden to the end. */
function literalEnd(text: string, start: number, kind: 'plain' | 'escape' | 'unicode'): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      if (kind === 'escape') i++;
      else if (kind === 'plain') return text.length; // may be an escape (standard_conforming_strings = off)
    } else if (c === "'") {
      if (text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return text.length;
}

function blockCommentEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length - 1; i++) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i++;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** `text` with every literal and number replaced by `?` and every comment by a space; identifiers and `$n` kept. */
export function redactStatement(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
      out += ' ';
    } else if (c === '/' && next === '*') {
      i = blockCommentEnd(text, i);
      out += ' ';
    } else if (c === "'") {
      i = literalEnd(text, i, 'plain');
      out += '?';
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      let j = end;
      while (j >= 0 && text[j + 1] === '"') j = text.indexOf('"', j + 2);
      const stop = j < 0 ? text.length : j + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '$') {
      const tag = DOLLAR_TAG.exec(text.slice(i, i + 64))?.[0];
      if (next !== undefined && DIGIT.test(next)) {
        let j = i + 1;
        while (j < text.length && DIGIT.test(text[j] as string)) j++;
        out += text.slice(i, j);
        i = j;
      } else if (tag) {
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? text.length : close + tag.length;
        out += '?';
      } else {
        out += c;
        i++;
      }
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      let j = i + 1;
      while (j < text.length && /[0-9A-Za-z_.]/.test(text[j] as string)) j++;
      out += '?';
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_CHAR.test(text[j] as string)) j++;
      const word = text.slice(i, j);
      const lower = word.toLowerCase();
      if (text[j] === "'" && (lower === 'e' || lower === 'b' || lower === 'x' || lower === 'n')) {
        i = literalEnd(text, j, lower === 'e' ? 'escape' : 'plain');
        out += '?';
      } else if (lower === 'u' && text[j] === '&' && text[j + 1] === "'") {
        i = literalEnd(text, j + 1, 'unicode');
        out += '?';
      } else {
        out += word;
        i = j;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Whether pg_stat_statements normalises this statement (see the module comment): its first keyword, after
 * comments and opening parentheses, is a plannable one, and it is not a `SELECT ... INTO` (a utility statement).
 */
export function isPlannableStatement(text: string): boolean {
  const redacted = redactStatement(text);
  const first = /^[\s(]*([A-Za-z]+)/.exec(redacted)?.[1]?.toLowerCase();
  if (first === undefined || !PLANNABLE.has(first)) return false;
  return !/\binto\b/i.test(redacted) || /\b(insert|merge)\s+into\b/i.test(redacted);
}

/**
 * The `query` label of a statement: undefined when the statement must not be exported at all, else the redacted
 * text with whitespace collapsed, cut to `maxLength` code points.
 */
export function statementLabel(text: string, maxLength: number): string | undefined {
  if (!isPlannableStatement(text)) return undefined;
  const collapsed = redactStatement(text).replace(/\s+/g, ' ').trim();
  const chars = Array.from(collapsed);
  return chars.length <= maxLength ? collapsed : chars.slice(0, maxLength).join('');
}
