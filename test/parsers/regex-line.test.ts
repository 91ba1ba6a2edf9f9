import { describe, expect, it } from 'vitest';
import { RegexFormatError, RegexLineParser, regexGroupNames } from '../../src/exporter/parsers/regex-line.js';
import { methodName } from '../../src/exporter/parsers/http-method.js';
import { createRequestFields, describeRequestFields } from '../../src/exporter/parsers/request-fields.js';

const PATTERN =
  '^(?<method>\\S+) (?<path>\\S+) (?<status>\\S+) (?<duration_ms>\\S+)ms(?: bytes=(?<bytes>\\S+))?(?: up=(?<upstream>\\S+)s)?(?: db=(?<db_ms>\\S+))?(?: cache=(?<cache>\\w+))?(?: lock=(?<lock>\\w+) wait=(?<lock_wait_ms>\\S+))?$';

function parse(line: string | Buffer, pattern = PATTERN): Record<string, unknown> {
  const p = new RegexLineParser(pattern);
  const body = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const buf = Buffer.concat([Buffer.from('zz\n'), body, Buffer.from('\nzz')]);
  const f = createRequestFields();
  const r = p.parse(buf, 3, 3 + body.length, f);
  if (!r.ok) return { reason: r.reason };
  return { ...describeRequestFields(f), method: methodName(f.method) };
}

describe('regex lines', () => {
  it.each([
    [
      'GET /api/c/1 200 12.5ms bytes=512',
      { method: 'GET', path: '/api/c/1', status: 200, duration: 0.0125, bytes: 512 },
    ],
    ['POST /api/c 201 0ms', { method: 'POST', status: 201, duration: 0, bytes: null }],
    [
      'GET /x 200 3ms bytes=- up=0.002s db=1 cache=HIT lock=acquired wait=0.5',
      { bytes: null, upstream: 0.002, db: 0.001, cache: 'hit', lock: 'acquired', lockWait: 0.0005 },
    ],
    ['brew /pot 418 1ms', { method: 'OTHER', status: 418 }],
  ])('%s', (line, expected) => {
    expect(parse(line)).toMatchObject(expected);
  });

  it('uses a route group as-is and seconds without the _ms suffix', () => {
    expect(
      parse('PUT /api/c/:id 204 0.25', '^(?<method>\\S+) (?<route>\\S+) (?<status>\\d+) (?<duration>\\S+)$'),
    ).toMatchObject({
      route: '/api/c/:id',
      path: null,
      duration: 0.25,
    });
  });

  it.each([
    ['no match', 'something else entirely', 'format_mismatch'],
    ['empty', '', 'format_mismatch'],
    ['status word', 'GET /x abc 1ms', 'invalid_status'],
    ['status 700', 'GET /x 700 1ms', 'invalid_status'],
    ['status 2000', 'GET /x 2000 1ms', 'invalid_status'],
    ['negative duration', 'GET /x 200 -1ms', 'invalid_duration'],
    ['duration word', 'GET /x 200 fastms', 'invalid_duration'],
    ['duration over a day', 'GET /x 200 90000000ms', 'invalid_duration'],
    ['bad upstream', 'GET /x 200 1ms up=xs', 'invalid_duration'],
    ['bytes word', 'GET /x 200 1ms bytes=many', 'invalid_bytes'],
    ['fractional bytes', 'GET /x 200 1ms bytes=1.5', 'invalid_bytes'],
  ])('%s -> %s', (_name, line, reason) => {
    expect(parse(line)).toEqual({ reason });
  });

  it('an optional status group that did not match is missing_field', () => {
    expect(parse('GET /x', '^(?<method>\\S+) (?<path>\\S+)(?: (?<status>\\d+))?$')).toEqual({
      reason: 'missing_field',
    });
  });

  it('binary garbage is a parse error', () => {
    expect(parse(Buffer.from([0x47, 0x45, 0x54, 0x20, 0x00, 0xff, 0x01]))).toEqual({ reason: 'binary' });
  });

  it.each([
    ['(?<status>\\d+', /invalid pattern/],
    ['(?<status>\\d+) (?<paht>\\S+)', /unknown named group\(s\) "paht"/],
    ['(?<path>\\S+)', /needs a \(\?<status>/],
    ['(?<status>\\d+)', /needs a \(\?<path>/],
    ['(?<status>\\d+) (?<path>\\S+) (?<duration>\\S+) (?<duration_ms>\\S+)', /either/],
  ])('rejects %j', (pattern, message) => {
    expect(() => new RegexLineParser(pattern)).toThrow(RegexFormatError);
    expect(() => new RegexLineParser(pattern)).toThrow(message);
  });

  it('lists group names, ignoring escaped parentheses', () => {
    expect(regexGroupNames('\\(?<no>x) (?<status>\\d+) (?<path>\\S+)')).toEqual(['status', 'path']);
  });
});
