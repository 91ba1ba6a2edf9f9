import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METHOD_COUNT, methodFromBytes } from '../../src/exporter/parsers/http-method.js';
import { JsonLineParser, type JsonFieldNames } from '../../src/exporter/parsers/json-line.js';
import { NginxFormatError, NginxLineParser } from '../../src/exporter/parsers/nginx-format.js';
import { parseRedisInfo } from '../../src/exporter/parsers/redis-info.js';
import { RegexFormatError, RegexLineParser } from '../../src/exporter/parsers/regex-line.js';
import { CACHE_RESULTS, LOCK_RESULTS } from '../../src/exporter/parsers/outcomes.js';
import {
  createRequestFields,
  describeRequestFields,
  MAX_BYTES,
  MAX_DURATION_SECONDS,
  PARSE_ERROR_REASONS,
  type LineParser,
  type RequestFields,
} from '../../src/exporter/parsers/request-fields.js';
import { autoTemplate, RouteResolver } from '../../src/exporter/parsers/route-template.js';
import { redactStatement, statementLabel } from '../../src/exporter/parsers/statement-text.js';
import {
  hostileJsonLine,
  hostileLineBytes,
  hostileNginxLine,
  hostileRedisInfo,
  hostileRegexLine,
  hostileString,
  NGINX_FORMAT,
  REGEX_PATTERN,
} from '../helpers/hostile.js';

/*
 * Issue 11 B5: every parser under hostile input, as fast-check properties. Parsers sit on the hot path and must never
 * throw (an exception would escape the tailer's sink); they return a reason from the documented set, and when they
 * accept a line, every field is within its documented bounds. A parser must also read only its own bytes: the same
 * line inside a larger buffer, between arbitrary neighbours, parses to the same result.
 */
const RUNS = { numRuns: 1500 };

type Outcome = { reason: string } | Record<string, unknown>;

function parseAt(
  parser: LineParser,
  line: Buffer,
  before: Buffer,
  after: Buffer,
  f: RequestFields = createRequestFields(),
): Outcome {
  const buf = Buffer.concat([before, line, after]);
  const r = parser.parse(buf, before.length, before.length + line.length, f);
  if (!r.ok) {
    expect(PARSE_ERROR_REASONS).toContain(r.reason);
    expect(r.code).toBe(PARSE_ERROR_REASONS.indexOf(r.reason));
    return { reason: r.reason };
  }
  // accepted: every field within its bounds, every range inside the line
  expect(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599, `status ${f.status}`).toBe(true);
  expect(f.method >= 0 && f.method < METHOD_COUNT).toBe(true);
  for (const [name, v] of [
    ['duration', f.duration],
    ['upstream', f.upstream],
    ['db', f.db],
    ['cacheTime', f.cacheTime],
    ['lockWait', f.lockWait],
  ] as const) {
    expect(Number.isNaN(v) || (v >= 0 && v <= MAX_DURATION_SECONDS), `${name} ${v}`).toBe(true);
  }
  expect(
    Number.isNaN(f.bytes) || (Number.isInteger(f.bytes) && f.bytes >= 0 && f.bytes <= MAX_BYTES),
    `bytes ${f.bytes}`,
  ).toBe(true);
  expect(f.cacheResult === -1 || (f.cacheResult >= 0 && f.cacheResult < CACHE_RESULTS.length)).toBe(true);
  expect(f.lockResult === -1 || (f.lockResult >= 0 && f.lockResult < LOCK_RESULTS.length)).toBe(true);
  for (const [b, s, e] of [
    [f.pathBuf, f.pathStart, f.pathEnd],
    [f.routeBuf, f.routeStart, f.routeEnd],
  ] as const) {
    if (s < 0) continue;
    expect(s <= e && e <= b.length).toBe(true);
    if (b === buf)
      expect(s >= before.length && e <= before.length + line.length, 'a range outside the line').toBe(true);
  }
  return describeRequestFields(f);
}

const neighbours = fc
  .tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }))
  .map(([a, b]) => [Buffer.from(a), Buffer.from(b)] as const);

const CUSTOM_FIELDS: JsonFieldNames = {
  method: 'verb',
  path: 'url',
  route: null,
  status: 'code',
  duration: 'took',
  duration_unit: 's',
  bytes: null,
  db_time: 'sql"\\time',
  cache_time: null,
  phase_unit: 's',
  cache: 'é',
  lock: null,
  lock_wait: null,
};

const PARSERS: Array<[string, () => LineParser, fc.Arbitrary<string>]> = [
  ['json (reference CRM keys)', () => new JsonLineParser(), hostileJsonLine],
  [
    'json (renamed keys, seconds)',
    () => new JsonLineParser(CUSTOM_FIELDS),
    hostileJsonLine.map((l) => l.replace('"method"', '"verb"').replace('"status"', '"code"')),
  ],
  ['nginx (combined)', () => new NginxLineParser('combined'), hostileNginxLine],
  ['nginx (upstream and cache fields)', () => new NginxLineParser(NGINX_FORMAT), hostileNginxLine],
  ['regex', () => new RegexLineParser(REGEX_PATTERN), hostileRegexLine],
];

describe.each(PARSERS)('%s parser under hostile lines', (_name, make, lines) => {
  it('never throws, returns a documented reason or bounded fields, and reads only its own bytes', () => {
    const shared = make(); // one parser for the whole run: remembered keys and caches carry over, as in the exporter
    fc.assert(
      fc.property(hostileLineBytes(lines), neighbours, (line, [before, after]) => {
        const alone = parseAt(make(), line, Buffer.alloc(0), Buffer.alloc(0));
        expect(parseAt(shared, line, before, after)).toEqual(alone);
      }),
      RUNS,
    );
  });
});

describe('JSON key sequence remembered from earlier lines against a fresh parser', () => {
  it('gives the same result as a fresh parser for any line after any sequence of lines', () => {
    fc.assert(
      fc.property(fc.array(hostileLineBytes(hostileJsonLine), { minLength: 1, maxLength: 30 }), (lines) => {
        const warm = new JsonLineParser();
        for (const line of lines)
          expect(parseAt(warm, line, Buffer.alloc(0), Buffer.alloc(0))).toEqual(
            parseAt(new JsonLineParser(), line, Buffer.alloc(0), Buffer.alloc(0)),
          );
      }),
      { numRuns: 300 },
    );
  });
});

describe('format definitions from the config', () => {
  it('a random nginx log_format compiles or fails with NginxFormatError, and its parser never throws', () => {
    const token = fc.oneof(
      fc.constantFrom(
        '$status',
        '$request',
        '$request_uri',
        '$request_time',
        '$body_bytes_sent',
        '$upstream_response_time',
        '$remote_addr',
        '$http_x',
        '$',
      ),
      hostileString(6),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 12 }),
        fc.constantFrom('', "log_format x '", 'log_format x "'),
        fc.array(hostileLineBytes(hostileNginxLine), { maxLength: 5 }),
        (tokens, prefix, lines) => {
          let parser: NginxLineParser;
          try {
            parser = new NginxLineParser(`${prefix}${tokens.join(' ')}${prefix === '' ? '' : prefix.slice(-1)}`);
          } catch (err) {
            expect(err).toBeInstanceOf(NginxFormatError);
            return;
          }
          for (const line of lines) parseAt(parser, line, Buffer.alloc(0), Buffer.alloc(0));
        },
      ),
      { numRuns: 800 },
    );
  });

  it('a random regex pattern compiles or fails with RegexFormatError, and its parser never throws', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        '(?<status>\\d+)',
        '(?<status>\\S+)',
        '(?<path>\\S+)',
        '(?<route>[^ ]*)',
        '(?<duration>.+?)',
        '(?<duration_ms>\\S+)',
        '(?<bytes>\\d*)',
        '(?<method>\\w+)',
        '(?<cache>\\w*)',
        '(?<nope>x)',
        ' ',
        '^',
        '$',
        '(',
        ')',
        '[',
        '*',
        '\\',
        '.*',
      ),
      hostileString(4),
    );
    // a quantified group can backtrack for minutes on a hostile line (ReDoS): an operator's pattern, not hostile input
    const pattern = fc.array(piece, { maxLength: 10 }).filter((p) => !/\)[*+?{]/.test(p.join('')));
    fc.assert(
      fc.property(pattern, fc.array(hostileLineBytes(hostileRegexLine), { maxLength: 5 }), (pieces, lines) => {
        let parser: RegexLineParser;
        try {
          parser = new RegexLineParser(pieces.join(''));
        } catch (err) {
          expect(err).toBeInstanceOf(RegexFormatError);
          return;
        }
        for (const line of lines) parseAt(parser, line, Buffer.alloc(0), Buffer.alloc(0));
      }),
      { numRuns: 800 },
    );
  });
});

describe('Redis INFO', () => {
  const real = readFileSync(fileURLToPath(new URL('../fixtures/redis/info-7.txt', import.meta.url)), 'utf8');
  it('never throws on mangled or random replies, and keeps only finite, non-negative numbers it can read', () => {
    fc.assert(
      fc.property(hostileRedisInfo(real), (text) => {
        const r = parseRedisInfo(text);
        if (!r.ok) {
          expect(typeof r.reason).toBe('string');
          return;
        }
        const ok = (v: number | undefined): boolean => v === undefined || (Number.isFinite(v) && v >= 0);
        for (const k of r.info.keyspace)
          expect(ok(k.keys) && ok(k.expires), `keyspace ${JSON.stringify(k)}`).toBe(true);
        for (const c of r.info.commands)
          expect(
            ok(c.calls) && ok(c.usec) && ok(c.failedCalls) && ok(c.rejectedCalls),
            `command ${JSON.stringify(c)}`,
          ).toBe(true);
        for (const l of r.info.latency)
          for (const p of l.percentiles) expect(ok(p.usec), `latency ${JSON.stringify(l)}`).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('routes and methods', () => {
  it('route ids stay below max_routes + 2 and names stay bounded, whatever the paths and application routes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.oneof(
              hostileString(60).map((s) => Buffer.from(`/${s}`)),
              fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
            ),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 20 }),
        (inputs, maxRoutes) => {
          const r = new RouteResolver({ maxRoutes, templates: ['/api/customers/:id', '/static/*'] });
          for (const [asRoute, b] of inputs) {
            const id = asRoute ? r.resolveRoute(b, 0, b.length) : r.resolvePath(b, 0, b.length);
            if (asRoute && b.length === 0) {
              expect(id).toBe(-1); // no application route: the caller templates the path instead
              continue;
            }
            expect(Number.isInteger(id) && id >= 0 && id < maxRoutes + 2).toBe(true);
            expect(typeof r.names[id]).toBe('string');
          }
          expect(r.names.length).toBeLessThanOrEqual(maxRoutes + 2);
          for (const [, b] of inputs) autoTemplate(b.toString('utf8'));
        },
      ),
      { numRuns: 800 },
    );
  });

  it('a method from any bytes is one of the fixed ids', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
        const id = methodFromBytes(Buffer.from(b), 0, b.length);
        expect(Number.isInteger(id) && id >= 0 && id < METHOD_COUNT).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('statement texts (the query label)', () => {
  it('never throws, respects the length limit, and never shows a literal, a number, a dollar-quoted body or a comment', () => {
    const secret = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{9,20}$/).map((s) => `S3cr${s}`);
    const number = fc.bigInt({ min: 10n ** 9n, max: 10n ** 12n }).map(String);
    const wrap = fc.constantFrom(
      (s: string) => `SELECT * FROM t WHERE a = '${s}'`,
      (s: string) => `select 1 -- ${s}\nfrom t`,
      (s: string) => `SELECT /* ${s} */ 1`,
      (s: string) => `SELECT $$${s}$$`,
      (s: string) => `SELECT $tag$${s}$tag$`,
      (s: string) => `INSERT INTO t VALUES (E'x\\'${s}')`,
      (s: string) => `WITH q AS (SELECT B'1' AS b) SELECT '${s}'`,
      (s: string) => `UPDATE t SET p = '${s}'`,
      (s: string) => `SELECT 'it''s ${s}'`,
      (s: string) => `CREATE ROLE app LOGIN PASSWORD '${s}'`,
      (s: string) => `ALTER ROLE app PASSWORD '${s}'`,
    );
    fc.assert(
      fc.property(secret, number, wrap, hostileString(30), fc.integer({ min: 16, max: 300 }), (s, n, w, noise, max) => {
        redactStatement(noise); // any text at all
        const label = statementLabel(`${w(s)} AND x = ${n} ${noise}`, max);
        if (label === undefined) return;
        expect(Array.from(label).length).toBeLessThanOrEqual(max);
        expect(label).not.toContain(s);
        expect(label).not.toContain(n);
      }),
      RUNS,
    );
  });
});
