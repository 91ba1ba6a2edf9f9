import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON_FIELDS, JsonLineParser, type JsonFieldNames } from '../../src/exporter/parsers/json-line.js';
import { methodName } from '../../src/exporter/parsers/http-method.js';
import { createRequestFields, describeRequestFields } from '../../src/exporter/parsers/request-fields.js';

function run(p: JsonLineParser, line: string | Buffer): Record<string, unknown> {
  const body = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  const buf = Buffer.concat([Buffer.from('{"x":1}\n'), body, Buffer.from('\n{"y":2}')]);
  const f = createRequestFields();
  const r = p.parse(buf, 8, 8 + body.length, f);
  if (!r.ok) return { reason: r.reason };
  return { ...describeRequestFields(f), method: methodName(f.method) };
}
const parse = (line: string | Buffer, fields?: JsonFieldNames): Record<string, unknown> =>
  run(new JsonLineParser(fields), line);

const REFERENCE =
  '{"time":"2026-11-27T08:00:00.123Z","method":"GET","path":"/api/customers/123?x=1","route":"/api/customers/:id","status":200,"duration_ms":12.345,"bytes":512,"db_ms":3.2,"cache_ms":0.4,"cache":"hit","request_id":"3f2a"}';

describe('JSON lines: the reference CRM line', () => {
  it('takes the fast path and reads every field', () => {
    const p = new JsonLineParser();
    expect(run(p, REFERENCE)).toEqual({
      method: 'GET',
      path: '/api/customers/123?x=1',
      route: '/api/customers/:id',
      status: 200,
      duration: 0.012345,
      bytes: 512,
      upstream: null,
      db: 0.0032,
      cacheTime: 0.0004,
      cache: 'hit',
      lock: null,
      lockWait: null,
    });
    expect(p.fallbacks).toBe(0);
  });

  it('reads optional lock fields and absent keys', () => {
    const line = REFERENCE.slice(0, -1) + ',"lock":"contended","lock_wait_ms":1.5}';
    expect(parse(line)).toMatchObject({ lock: 'contended', lockWait: 0.0015 });
    expect(parse('{"method":"GET","path":"/a","status":200}')).toMatchObject({
      route: null,
      duration: null,
      bytes: null,
      db: null,
      cache: null,
    });
  });
});

describe('JSON lines: table', () => {
  it.each([
    [
      'key order does not matter',
      '{"status":201,"path":"/p","method":"POST","duration_ms":1}',
      { method: 'POST', status: 201, path: '/p', duration: 0.001 },
    ],
    [
      'whitespace',
      ' { "method" : "GET" , "path" : "/p" , "status" : 200 }\t',
      { method: 'GET', status: 200, path: '/p' },
    ],
    ['status as a string', '{"method":"GET","path":"/p","status":"404"}', { status: 404 }],
    ['duration as a string', '{"method":"GET","path":"/p","status":200,"duration_ms":"2.5"}', { duration: 0.0025 }],
    [
      'exponent',
      '{"method":"GET","path":"/p","status":200,"duration_ms":1.5E+3,"bytes":2e2}',
      { duration: 1.5, bytes: 200 },
    ],
    ['zero duration', '{"method":"GET","path":"/p","status":200,"duration_ms":0}', { duration: 0 }],
    ['negative zero', '{"method":"GET","path":"/p","status":200,"duration_ms":-0}', { duration: -0 }],
    [
      'null values are absent',
      '{"method":"GET","path":"/p","route":null,"status":200,"duration_ms":null,"bytes":null,"cache":null}',
      { route: null, duration: null, bytes: null, cache: null },
    ],
    [
      'empty route falls back to the path',
      '{"method":"GET","path":"/p","route":"","status":200}',
      { route: null, path: '/p' },
    ],
    [
      'cache outcomes are case-insensitive',
      '{"method":"GET","path":"/p","status":200,"cache":"MISS"}',
      { cache: 'miss' },
    ],
    [
      'unknown outcomes are other',
      '{"method":"GET","path":"/p","status":200,"cache":"stale","lock":"queued"}',
      { cache: 'other', lock: 'other' },
    ],
    ['"-" outcome is absent', '{"method":"GET","path":"/p","status":200,"cache":"-"}', { cache: null }],
    ['non-string outcome is other', '{"method":"GET","path":"/p","status":200,"cache":true}', { cache: 'other' }],
    ['unknown method', '{"method":"PURGE","path":"/p","status":200}', { method: 'OTHER' }],
    ['missing method', '{"path":"/p","status":200}', { method: 'OTHER' }],
    ['non-string method', '{"method":7,"path":"/p","status":200}', { method: 'OTHER' }],
    ['missing path', '{"method":"GET","status":200}', { path: null, route: null }],
    [
      'unneeded keys of every type',
      '{"a":true,"b":false,"c":null,"d":-1.5e-3,"e":"x\\"y\\\\z\\u00e9\\n","method":"GET","path":"/p","status":200}',
      { status: 200 },
    ],
    ['UTF-8 in a value', '{"method":"GET","path":"/caf\u00e9/1","status":200}', { path: '/caf\u00e9/1' }],
    [
      'duplicate key: the last wins (like JSON.parse)',
      '{"method":"GET","path":"/p","status":500,"status":200}',
      { status: 200 },
    ],
  ])('%s', (_name, line, expected) => {
    expect(parse(line)).toMatchObject(expected);
  });

  it.each([
    ['escaped string in a field it reads', '{"method":"GET","path":"/a\\"b\\u0041","status":200}', { path: '/a"bA' }],
    ['nested object', '{"method":"GET","path":"/p","status":200,"user":{"id":1,"tags":["a"]}}', { status: 200 }],
    ['array value', '{"method":"GET","path":"/p","status":200,"ids":[1,2]}', { status: 200 }],
    ['escaped key', '{"method":"GET","pa\\u0074h":"/p","status":200}', { path: '/p' }],
  ])('unusual JSON takes the JSON.parse fallback: %s', (_name, line, expected) => {
    const p = new JsonLineParser();
    expect(run(p, line)).toMatchObject(expected);
    expect(p.fallbacks).toBe(1);
  });

  it.each([
    ['truncated', '{"method":"GET","path":"/p","status":200', 'invalid_json'],
    ['trailing garbage', '{"method":"GET","path":"/p","status":200} x', 'invalid_json'],
    ['trailing comma', '{"method":"GET","path":"/p","status":200,}', 'invalid_json'],
    ['single quotes', "{'method':'GET'}", 'invalid_json'],
    ['bare words', 'hello world', 'invalid_json'],
    ['leading zero', '{"method":"GET","path":"/p","status":0200}', 'invalid_json'],
    // in a string the exporter reads (one it does not read is skipped to its closing quote unvalidated: see below)
    ['bad escape', '{"method":"GET","path":"/p\\q","status":200,"x":"y"}', 'invalid_json'],
    ['raw control character', '{"method":"GET","path":"/p\tq","status":200}', 'invalid_json'],
    ['NaN literal', '{"method":"GET","path":"/p","status":200,"duration_ms":NaN}', 'invalid_json'],
    ['array', '[{"status":200}]', 'format_mismatch'],
    ['number', '42', 'format_mismatch'],
    ['string', '"GET /"', 'format_mismatch'],
    ['null', 'null', 'format_mismatch'],
    ['no status', '{"level":"info","msg":"listening"}', 'missing_field'],
    ['null status', '{"method":"GET","path":"/p","status":null}', 'missing_field'],
    ['status 99', '{"method":"GET","path":"/p","status":99}', 'invalid_status'],
    ['status 600', '{"method":"GET","path":"/p","status":600}', 'invalid_status'],
    ['status 200.5', '{"method":"GET","path":"/p","status":200.5}', 'invalid_status'],
    ['status "2xx"', '{"method":"GET","path":"/p","status":"2xx"}', 'invalid_status'],
    ['status true', '{"method":"GET","path":"/p","status":true}', 'invalid_status'],
    ['status object', '{"method":"GET","path":"/p","status":{"code":200}}', 'invalid_status'],
    ['negative duration', '{"method":"GET","path":"/p","status":200,"duration_ms":-1}', 'invalid_duration'],
    ['duration "NaN"', '{"method":"GET","path":"/p","status":200,"duration_ms":"NaN"}', 'invalid_duration'],
    ['duration "Infinity"', '{"method":"GET","path":"/p","status":200,"duration_ms":"Infinity"}', 'invalid_duration'],
    ['duration over a day', '{"method":"GET","path":"/p","status":200,"duration_ms":86400001}', 'invalid_duration'],
    ['duration huge exponent', '{"method":"GET","path":"/p","status":200,"duration_ms":1e400}', 'invalid_duration'],
    ['duration boolean', '{"method":"GET","path":"/p","status":200,"duration_ms":false}', 'invalid_duration'],
    ['negative db time', '{"method":"GET","path":"/p","status":200,"db_ms":-0.1}', 'invalid_duration'],
    ['negative lock wait', '{"method":"GET","path":"/p","status":200,"lock_wait_ms":-5}', 'invalid_duration'],
    ['negative bytes', '{"method":"GET","path":"/p","status":200,"bytes":-1}', 'invalid_bytes'],
    ['fractional bytes', '{"method":"GET","path":"/p","status":200,"bytes":1.5}', 'invalid_bytes'],
    ['bytes "lots"', '{"method":"GET","path":"/p","status":200,"bytes":"lots"}', 'invalid_bytes'],
  ])('%s -> %s', (_name, line, reason) => {
    expect(parse(line)).toEqual({ reason });
  });

  it.each([
    ['NUL bytes', Buffer.alloc(16)],
    ['random bytes', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b, 0x22])],
    ['JSON start then garbage', Buffer.concat([Buffer.from('{"method":"GET",'), Buffer.from([0x00, 0xff, 0xfe])])],
  ])('binary garbage is a parse error: %s', (_name, line) => {
    expect(parse(line)).toEqual({ reason: 'binary' });
  });
});

describe('JSON lines: configured fields', () => {
  const fields: JsonFieldNames = {
    ...DEFAULT_JSON_FIELDS,
    method: 'verb',
    path: 'url',
    route: null,
    status: 'code',
    duration: 'took',
    duration_unit: 's',
    bytes: null,
    db_time: 'sql',
    cache_time: null,
    phase_unit: 's',
    cache: null,
    lock: null,
    lock_wait: null,
  };

  it('reads the configured keys and units, ignores the default ones', () => {
    const p = new JsonLineParser(fields);
    expect(
      run(p, '{"verb":"PUT","url":"/x/1","code":204,"took":0.25,"sql":0.1,"route":"/ignored","bytes":5,"cache":"hit"}'),
    ).toMatchObject({
      method: 'PUT',
      path: '/x/1',
      route: null,
      status: 204,
      duration: 0.25,
      db: 0.1,
      bytes: null,
      cache: null,
    });
    expect(p.has).toMatchObject({ bytes: false, db: true, cacheTime: false, cache: false, lock: false });
    expect(p.reasons).not.toContain('invalid_bytes');
  });

  it('rejects two fields on one key', () => {
    expect(() => new JsonLineParser({ ...DEFAULT_JSON_FIELDS, route: 'path' })).toThrow(/both use the key "path"/);
  });
});

describe('JSON lines: the fast path agrees with JSON.parse', () => {
  /** A deterministic variety of valid lines: values of every shape in the fields the parser reads. */
  function* lines(): Generator<string> {
    const values = {
      method: ['"GET"', '"POST"', '"get"', '"X"', 'null', '1'],
      path: ['"/a/1?q=2"', '"/caf\u00e9"', '""', 'null'],
      route: ['"/a/:id"', '""', 'null'],
      status: ['200', '"201"', '404', '599', '100'],
      duration_ms: [
        '0',
        '12.345',
        '1e3',
        '"7"',
        'null',
        '0.000001',
        '-0',
        '1.5E-2',
        '2e+1',
        '123456789.1234567',
        '0.1234567890123456789',
        '99999999999999999999',
      ],
      bytes: ['0', '512', '"12"', 'null'],
      db_ms: ['3.2', 'null'],
      cache: ['"hit"', '"BYPASS"', '"x"', 'null', 'false'],
      lock: ['"timeout"', 'null'],
    };
    let seed = 7;
    const pick = <T>(a: T[]): T => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return a[seed % a.length] as T;
    };
    for (let i = 0; i < 400; i++) {
      const keys = Object.keys(values).filter(() => pick([true, true, false]));
      if (pick([true, false])) keys.reverse();
      yield `{${keys.map((k) => `"${k}":${pick(values[k as keyof typeof values])}`).join(',')}}`;
    }
  }

  it.each(['012', '-', '1.', '.5', '1e', '1e+', '--1', '+1', '0x1'])(
    'a duration of %s is not a JSON number: invalid_json on both paths',
    (text) => {
      const line = `{"status":200,"path":"/a","duration_ms":${text}}`;
      expect(run(new JsonLineParser(), line)).toEqual({ reason: 'invalid_json' });
    },
  );

  it('gives the same fields or reason whether or not the line forces the fallback', () => {
    const fast = new JsonLineParser();
    const slow = new JsonLineParser();
    let n = 0;
    for (const line of lines()) {
      const forced = line === '{}' ? '{"z":{}}' : `${line.slice(0, -1)},"z":{}}`;
      expect(run(slow, forced), line).toEqual(run(fast, line));
      n++;
    }
    expect(n).toBeGreaterThan(0);
    expect(fast.fallbacks).toBe(0);
    expect(slow.fallbacks).toBe(n);
  });
});

describe('JSON lines: the same line, the same result, whatever came before (issue 11 B5)', () => {
  // Found by test/parsers/hostile-input.test.ts: an unread string value with a raw control character (invalid JSON)
  // was a request after a layout was learned but invalid_json (or binary) on a fresh parser, so the counts of a
  // log depended on the lines before it (and changed across a restart).
  it.each([
    ['a tab in the time string', REFERENCE.replace('"time":"2026-11-27T08:00:00.123Z"', '"time":"\t"')],
    ['an escape character in the request id', REFERENCE.replace('"3f2a"', '"\u001b[31m"'.replace('\\u001b', '\u001b'))],
    [
      "a NUL in an unknown key's value",
      REFERENCE.replace('"cache":"hit"', '"cache":"hit","note":"a\u0000b"'.replace('\\u0000', '\u0000')),
    ],
  ])('%s: counted as the request it is, by a fresh and by a warm parser', (_name, line) => {
    const fresh = run(new JsonLineParser(), line);
    const warm = new JsonLineParser();
    run(warm, REFERENCE); // remembers its keys
    expect(run(warm, line)).toEqual(fresh);
    expect(fresh).toMatchObject({ status: 200, route: '/api/customers/:id' });
  });
});

describe('JSON lines: the key sequence remembered from the previous line', () => {
  const withLock = REFERENCE.slice(0, -1) + ',"lock":"acquired","lock_wait_ms":2}';

  it('gives every line the result a fresh parser gives it (keys added, dropped, reordered, spaced, escaped)', () => {
    const warm = new JsonLineParser();
    const lines = [
      REFERENCE,
      REFERENCE.replace('"status":200', '"status":503').replace('12.345', '0'),
      withLock,
      REFERENCE,
      withLock.replace('"acquired"', '"timeout"').replace('"hit"', 'null'),
      REFERENCE.replace('"route":"/api/customers/:id"', '"route":null'),
      REFERENCE.replace('"3f2a"', '"with \\"escape\\" inside"'),
      REFERENCE.replace('"bytes":512', '"bytes":true'),
      REFERENCE.replace('"bytes":512', '"bytes":5e2'),
      REFERENCE.replace('"time":', ' "time" : '),
      REFERENCE.replace('{"time":"2026-11-27T08:00:00.123Z",', '{').replace('}', ',"time":"x"}'),
      '{"method":"GET","status":200}',
      '{}',
      REFERENCE.replace('"bytes":512', '"bytes":0512'),
      REFERENCE.replace('"path":"/api/customers/123?x=1"', '"path":"/tab\there"'),
      REFERENCE.slice(0, -1),
      `${REFERENCE}x`,
    ];
    for (const line of lines) expect(run(warm, line), line).toEqual(run(new JsonLineParser(), line));
  });

  it('follows a log whose key order changed', () => {
    const p = new JsonLineParser();
    run(p, REFERENCE);
    const reordered = '{"status":200,"method":"POST","path":"/x/1","duration_ms":3}';
    for (let i = 0; i < 3; i++)
      expect(run(p, reordered)).toMatchObject({ status: 200, method: 'POST', duration: 0.003 });
    expect(p.fallbacks).toBe(0);
  });
});
