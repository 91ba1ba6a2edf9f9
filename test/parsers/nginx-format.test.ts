import { describe, expect, it } from 'vitest';
import {
  COMBINED_FORMAT,
  NginxFormatError,
  NginxLineParser,
  normalizeLogFormat,
  tokenizeLogFormat,
} from '../../src/exporter/parsers/nginx-format.js';
import { methodName } from '../../src/exporter/parsers/http-method.js';
import { createRequestFields, describeRequestFields } from '../../src/exporter/parsers/request-fields.js';

const MAIN =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time';
const T = '[27/Nov/2026:08:00:00 +0000]';

function parse(format: string, line: string | Buffer): Record<string, unknown> {
  const p = new NginxLineParser(format);
  // surround the line with other bytes: parsers must respect [start, end)
  const body = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const buf = Buffer.concat([Buffer.from('"junk\n'), body, Buffer.from('\n"tail')]);
  const f = createRequestFields();
  const r = p.parse(buf, 6, 6 + body.length, f);
  if (!r.ok) return { reason: r.reason };
  const d = describeRequestFields(f);
  return { ...d, method: methodName(f.method) };
}

describe('normalizeLogFormat', () => {
  it.each([
    ['combined', COMBINED_FORMAT],
    ['  combined  ', COMBINED_FORMAT],
    ['log_format combined;', COMBINED_FORMAT],
    [`log_format main '$remote_addr - $status';`, '$remote_addr - $status'],
    [`log_format main escape=json '{"s":"$status",' '"u":"$request_uri"}';`, '{"s":"$status","u":"$request_uri"}'],
    [`'$remote_addr "$request"'\n    '$status';`, '$remote_addr "$request"$status'],
    [`"$status \\"$request\\""`, '$status "$request"'],
    ['$status $request', '$status $request'],
  ])('%j', (input, expected) => {
    expect(normalizeLogFormat(input)).toBe(expected);
  });

  it('rejects an unterminated quote and a named format without its string', () => {
    expect(() => normalizeLogFormat(`log_format main '$status`)).toThrow(NginxFormatError);
    expect(() => normalizeLogFormat('log_format main;')).toThrow(/no format string/);
  });

  it('tokenizes $var, ${var} and a lone $', () => {
    expect(tokenizeLogFormat('${status}x $ $request_time')).toEqual([
      { variable: 'status' },
      { literal: 'x $ ' },
      { variable: 'request_time' },
    ]);
  });
});

describe('NginxLineParser rejects formats it cannot parse reliably', () => {
  it.each([
    ['$remote_addr $request', /no \$status/],
    ['$remote_addr $status', /neither \$request nor/],
    ['$status$request', /directly followed by/],
  ])('%j', (format, message) => {
    expect(() => new NginxLineParser(format)).toThrow(message);
  });

  it('reports what the format carries', () => {
    expect(new NginxLineParser('combined').has).toMatchObject({
      duration: false,
      bytes: true,
      upstream: false,
      cache: false,
    });
    expect(new NginxLineParser(MAIN).has).toMatchObject({ duration: true, bytes: true, upstream: true });
    expect(new NginxLineParser('combined').reasons).not.toContain('invalid_duration');
  });

  it('puts no user text into the generated code', () => {
    const p = new NginxLineParser(`$status "$request" x'); process.exit(1); ('`);
    expect(p.source).not.toContain('process');
  });
});

describe('parsing', () => {
  it.each([
    [
      'combined',
      `10.0.0.1 - - ${T} "GET /api/customers/1?x=1 HTTP/1.1" 200 512 "-" "curl/8"`,
      { method: 'GET', path: '/api/customers/1?x=1', status: 200, bytes: 512, duration: null, upstream: null },
    ],
    [
      MAIN,
      `10.0.0.1 - bob ${T} "POST /api/deals HTTP/2.0" 201 64 "https://x/\\"q\\"" "Mozilla/5.0 (X11) \\"quoted\\"" 0.120 0.100`,
      { method: 'POST', path: '/api/deals', status: 201, bytes: 64, duration: 0.12, upstream: 0.1 },
    ],
    [
      MAIN,
      `1.1.1.1 - - ${T} "GET / HTTP/1.1" 200 0 "-" "-" 0.050 0.010, 0.020`,
      { status: 200, duration: 0.05, upstream: 0.03 },
    ],
    [
      MAIN,
      `1.1.1.1 - - ${T} "GET / HTTP/1.1" 502 0 "-" "-" 3.000 1.000, 1.000 : 0.500`,
      { status: 502, upstream: 2.5 },
    ],
    [MAIN, `1.1.1.1 - - ${T} "GET / HTTP/1.1" 200 0 "-" "-" 0.000 -`, { duration: 0, upstream: null }],
    [MAIN, `1.1.1.1 - - ${T} "GET / HTTP/1.1" 504 0 "-" "-" 60.001 -, 60.000`, { status: 504, upstream: 60 }],
    [MAIN, `1.1.1.1 - - ${T} "-" 400 0 "-" "-" 0.001 -`, { method: 'OTHER', path: null, status: 400 }],
    [MAIN, `1.1.1.1 - - ${T} "" 400 0 "-" "-" 0.001 -`, { method: 'OTHER', path: null }],
    [MAIN, `1.1.1.1 - - ${T} "\\x16\\x03\\x01" 400 0 "-" "-" 0.001 -`, { method: 'OTHER', path: null, status: 400 }],
    [MAIN, `1.1.1.1 - - ${T} "GET /a b HTTP/1.1" 200 0 "-" "-" 0.001 -`, { path: '/a b' }],
    [MAIN, `1.1.1.1 - - ${T} "GET /old-style" 200 0 "-" "-" 0.001 -`, { method: 'GET', path: '/old-style' }],
    [MAIN, `1.1.1.1 - - ${T} "get /x HTTP/1.1" 200 0 "-" "-" 0.001 -`, { method: 'OTHER', path: '/x' }],
    [
      '$request_method $request_uri $status $request_time "$request"',
      'PUT /api/c/1?y=2 204 0.004 "GET /ignored HTTP/1.1"',
      { method: 'PUT', path: '/api/c/1?y=2', status: 204, duration: 0.004 },
    ],
    ['$status $uri $bytes_sent', '200 /x 1234', { path: '/x', bytes: 1234 }],
    ['$status $uri $body_bytes_sent $bytes_sent', '200 /x 10 99', { bytes: 10 }],
    ['$status "$request" $upstream_cache_status', '200 "GET /c HTTP/1.1" HIT', { cache: 'hit' }],
    ['$status "$request" $upstream_cache_status', '200 "GET /c HTTP/1.1" REVALIDATED', { cache: 'other' }],
    ['$status "$request" $upstream_cache_status', '200 "GET /c HTTP/1.1" -', { cache: null }],
    [
      '$status "$request" $upstream_addr $upstream_status rt=$upstream_response_time',
      '200 "GET / HTTP/1.1" 10.0.0.1:80, 10.0.0.2:80 502, 200 rt=0.001, 0.002',
      { upstream: 0.003 },
    ],
    [
      '$status "$request" $upstream_addr $upstream_status rt=$upstream_response_time',
      '200 "GET / HTTP/1.1" 10.0.0.1:80 : unix:/s 502 : 200 rt=0.5 : 0.25',
      { upstream: 0.75 },
    ],
    [
      '{"s":"$status","r":"$request","t":"$request_time"}',
      '{"s":"200","r":"GET /a\\"b HTTP/1.1","t":"0.002"}',
      { path: '/a\\"b', duration: 0.002 },
    ],
    ['[$time_local] $status "$request"', `${T} 200 "GET /t HTTP/1.1"`, { status: 200, path: '/t' }],
  ])('%s | %s', (format, line, expected) => {
    expect(parse(format, line)).toMatchObject(expected);
  });

  it.each([
    ['empty line', ''],
    ['another format', 'Nov 27 08:00:00 host sshd[1]: Accepted publickey'],
    ['truncated', `10.0.0.1 - - ${T} "GET / HTTP/1.1" 200`],
    ['trailing garbage', `10.0.0.1 - - ${T} "GET / HTTP/1.1" 200 0 "-" "-" 0.001 - extra`],
    ['unterminated quote', `10.0.0.1 - - ${T} "GET / HTTP/1.1 200 0 "-`],
    ['short time_local', `10.0.0.1 - - [27/Nov/2026] "GET / HTTP/1.1" 200 0 "-" "-" 0.001 -`],
  ])('format_mismatch: %s', (_name, line) => {
    expect(parse(MAIN, line)).toEqual({ reason: 'format_mismatch' });
  });

  it.each([
    ['abc', 'invalid_status'],
    ['99', 'invalid_status'],
    ['099', 'invalid_status'],
    ['600', 'invalid_status'],
    ['2000', 'invalid_status'],
    ['-', 'invalid_status'],
  ])('status %j -> %s', (status, reason) => {
    expect(parse(MAIN, `1.1.1.1 - - ${T} "GET / HTTP/1.1" ${status} 0 "-" "-" 0.001 -`)).toEqual({ reason });
  });

  it.each([
    ['-0.010', '-'],
    ['abc', '-'],
    ['-', '-'],
    ['86400.001', '-'],
    ['0.001', 'abc'],
    ['0.001', '0.1, x'],
    ['0.001', '-0.1'],
    ['0.001', '99999.0'],
  ])('request_time %j upstream %j -> invalid_duration', (rt, urt) => {
    expect(parse(MAIN, `1.1.1.1 - - ${T} "GET / HTTP/1.1" 200 0 "-" "-" ${rt} ${urt}`)).toEqual({
      reason: 'invalid_duration',
    });
  });

  it('accepts an exponent (nginx never writes one, but it is a number)', () => {
    expect(parse('$status "$request" $request_time', '200 "GET / HTTP/1.1" 1.5e-3')).toMatchObject({
      duration: 0.0015,
    });
  });

  it.each(['-1', 'x', '1.5', '-', ''])('bytes %j -> invalid_bytes', (bytes) => {
    expect(parse(MAIN, `1.1.1.1 - - ${T} "GET / HTTP/1.1" 200 ${bytes} "-" "-" 0.001 -`)).toEqual({
      reason: 'invalid_bytes',
    });
  });

  it('reports the first bad field when several are bad', () => {
    expect(parse(MAIN, `1.1.1.1 - - ${T} "GET / HTTP/1.1" 999 x "-" "-" -1 -`)).toEqual({ reason: 'invalid_status' });
  });

  it.each([
    ['NUL bytes', Buffer.from([0x00, 0x00, 0x00, 0x00])],
    ['random bytes', Buffer.from([0x8f, 0x12, 0xff, 0x00, 0xc3, 0x28, 0x01])],
    [
      'invalid UTF-8 in an otherwise plausible line',
      Buffer.concat([Buffer.from('1.1.1.1 - - '), Buffer.from([0xc3, 0x28]), Buffer.from(' nope')]),
    ],
  ])('binary garbage is a parse error: %s', (_name, bytes) => {
    expect(parse(MAIN, bytes)).toEqual({ reason: 'binary' });
  });

  it('keeps a valid line with UTF-8 in it', () => {
    expect(parse(MAIN, `1.1.1.1 - - ${T} "GET /caf\u00e9 HTTP/1.1" 200 0 "-" "Gr\u00fc\u00dfe" 0.001 -`)).toMatchObject(
      { path: '/caf\u00e9' },
    );
  });
});
