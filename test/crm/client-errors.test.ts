import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/crm.js';

/** Whatever a client sends, a client error is a 4xx with a JSON body, never a 500 nor a log line with a stack. */
describe('client errors', () => {
  let h: Harness;
  const logged: string[] = [];
  beforeAll(async () => {
    h = await startHarness({ log: (level, message) => logged.push(`${level}: ${message}`) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const json = { 'content-type': 'application/json' };
  const cases: [string, string, string, unknown?, Record<string, string>?][] = [
    ['malformed percent-encoding in an id', 'GET', '/api/customers/%ZZ'],
    ['truncated percent-encoding', 'GET', '/api/customers/%'],
    ['invalid UTF-8 after decoding', 'GET', '/api/customers/%E0%A4%A'],
    ['malformed encoding under a nested route', 'GET', '/api/customers/%ZZ/notes'],
    ['malformed encoding on a write', 'PATCH', '/api/customers/%ZZ', { name: 'x' }],
    ['malformed encoding on a password change', 'POST', '/api/users/%C0/password', { password: 'long enough pw' }],
    [
      'a gzip body that is not gzip',
      'POST',
      '/api/customers',
      'certainly not gzip',
      { ...json, 'content-encoding': 'gzip' },
    ],
    [
      'a deflate body that is not deflate',
      'POST',
      '/api/customers',
      'certainly not deflate',
      { ...json, 'content-encoding': 'deflate' },
    ],
    ['an unknown content encoding', 'POST', '/api/customers', '{}', { ...json, 'content-encoding': 'x-zip' }],
    ['an unsupported charset', 'POST', '/api/customers', '{}', { 'content-type': 'application/json; charset=utf-7' }],
    [
      'a truncated gzip body',
      'POST',
      '/api/customers',
      gzipSync('{"name":"a","email":"a@b.io","age":3}').subarray(0, 12),
      { ...json, 'content-encoding': 'gzip' },
    ],
    ['a body larger than the limit', 'POST', '/api/customers', `{"name":"${'x'.repeat(20_000)}"}`, json],
    ['invalid JSON', 'POST', '/api/customers', '{"name":', json],
  ];

  it.each(cases)('%s: 4xx, JSON error, nothing logged', async (_what, method, path, body, headers) => {
    const id = `client-error-${Math.random().toString(36).slice(2)}`;
    const before = logged.length;
    const init: RequestInit = { method, headers: { 'x-request-id': id, ...headers } };
    if (body !== undefined)
      init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    if (body !== undefined && !headers) (init.headers as Record<string, string>)['content-type'] = 'application/json';
    const res = await fetch(h.svc.url + path, init);
    const text = await res.text();
    expect(res.status, text).toBeGreaterThanOrEqual(400);
    expect(res.status, text).toBeLessThan(500);
    const parsed = JSON.parse(text) as { error: string; request_id: string };
    expect(parsed.request_id).toBe(id);
    expect(parsed.error).not.toContain('%');
    expect((await h.entry(id)).status).toBe(res.status);
    expect(logged.slice(before)).toEqual([]);
  });
});
