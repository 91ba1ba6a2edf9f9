import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAccessLogLine } from '../../src/crm/access-log.js';
import { readLog, startHarness, type Harness } from '../helpers/crm.js';
import { CRM_LOG_KEYS } from '../helpers/crm-log-keys.js';
import { eventually } from '../helpers/wait.js';

/** Keys must appear in contract order (a subsequence of it). */
function inContractOrder(keys: string[]): boolean {
  let at = -1;
  for (const k of keys) {
    const i = CRM_LOG_KEYS.indexOf(k);
    if (i <= at) return false;
    at = i;
  }
  return true;
}

describe('formatAccessLogLine', () => {
  it('writes the contract order and omits absent optional fields', () => {
    const line = formatAccessLogLine({
      request_id: 'r1',
      db_ms: 1.5,
      bytes: 10,
      duration_ms: 2.25,
      status: 200,
      route: '/healthz',
      path: '/healthz',
      method: 'GET',
      time: '2026-01-01T00:00:00.000Z',
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(line))).toEqual([
      'time',
      'method',
      'path',
      'route',
      'status',
      'duration_ms',
      'bytes',
      'db_ms',
      'request_id',
    ]);
  });
});

describe('access log', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ accessLogReopenSeconds: 0.05 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('writes one JSON object per request with the contract fields, typed, in order', async () => {
    const c = await h.request('POST', '/api/customers', {
      name: 'Log',
      email: `log${Date.now()}@example.com`,
      age: 30,
    });
    const r = await h.request('GET', `/api/customers/${c.body.id}?fields=all`, undefined, {
      'x-request-id': 'log-get-1',
    });
    expect(r.status).toBe(400); // unknown query parameter, still a logged request
    const ok = await h.request('GET', `/api/customers/${c.body.id}`, undefined, { 'x-request-id': 'log-get-2' });
    expect(ok.headers.get('x-request-id')).toBe('log-get-2');
    const e = await h.entry('log-get-2');
    expect(inContractOrder(Object.keys(e))).toBe(true);
    expect(e).toMatchObject({
      method: 'GET',
      path: `/api/customers/${c.body.id}`,
      route: '/api/customers/:id',
      status: 200,
      cache: 'miss',
      request_id: 'log-get-2',
    });
    expect(new Date(e.time).toISOString()).toBe(e.time);
    expect(e.bytes).toBe(Buffer.byteLength(ok.text));
    for (const k of ['duration_ms', 'db_ms', 'cache_ms'] as const) {
      expect(typeof e[k]).toBe('number');
      expect(Math.round(e[k]! * 1000) / 1000).toBe(e[k]);
    }
    expect(e.db_ms).toBeGreaterThan(0);
    expect(e.lock).toBeUndefined();

    const bad = await h.entry('log-get-1');
    expect(bad).toMatchObject({ path: `/api/customers/${c.body.id}?fields=all`, status: 400 });
  });

  it('logs unmatched paths, 204s with zero bytes, and replaces unsafe request ids', async () => {
    await h.request('GET', '/no/such/path?x=1', undefined, { 'x-request-id': 'log-404' });
    expect(await h.entry('log-404')).toMatchObject({ route: 'unmatched', status: 404, path: '/no/such/path?x=1' });
    const c = await h.request('POST', '/api/customers', {
      name: 'Del',
      email: `del${Date.now()}@example.com`,
      age: 30,
    });
    await h.request('DELETE', `/api/customers/${c.body.id}`, undefined, { 'x-request-id': 'log-204' });
    expect(await h.entry('log-204')).toMatchObject({ route: '/api/customers/:id', status: 204, bytes: 0 });
    const r = await h.request('GET', '/healthz', undefined, { 'x-request-id': 'bad id with spaces and "quotes"' });
    const id = r.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const e = await h.entry(id);
    expect(e.cache).toBeUndefined();
    expect(e.cache_ms).toBeUndefined();
  });

  it('writes lock fields for password changes', async () => {
    const u = await h.request('POST', '/api/users', {
      email: `loglock${Date.now()}@example.com`,
      password: 'long enough pw',
    });
    await h.request(
      'POST',
      `/api/users/${u.body.id}/password`,
      { password: 'another long pw' },
      { 'x-request-id': 'log-lock' },
    );
    const e = await h.entry('log-lock');
    expect(e.lock).toBe('acquired');
    expect(typeof e.lock_wait_ms).toBe('number');
    expect(inContractOrder(Object.keys(e))).toBe(true);
  });

  it('reopens (SIGHUP / reopenAccessLog) after logrotate moved the file', async () => {
    await h.request('GET', '/healthz', undefined, { 'x-request-id': 'before-rotate' });
    await h.log('before-rotate');
    const rotated = join(h.dir, 'access.log.1');
    await rename(h.logPath, rotated);
    await h.svc.reopenAccessLog(); // what the SIGHUP handler does (handleSignals is off for this service)
    await h.request('GET', '/healthz', undefined, { 'x-request-id': 'after-rotate' });
    const fresh = await h.log('after-rotate');
    expect(fresh.map((e) => e.request_id)).not.toContain('before-rotate');
    expect((await readLog(rotated)).map((e) => e.request_id)).toContain('before-rotate');
  });

  it('reopens by itself (ACCESS_LOG_REOPEN) when the path names a new file', async () => {
    const rotated = join(h.dir, 'access.log.2');
    await rename(h.logPath, rotated);
    // No SIGHUP this time: the periodic check notices the path is gone and recreates it.
    await eventually(async () => {
      await h.request('GET', '/healthz', undefined, { 'x-request-id': 'auto-reopen' });
      return (await readLog(h.logPath)).some((e) => e.request_id === 'auto-reopen') ? true : undefined;
    }, 'a line in the recreated log');
  });
});

describe('SIGHUP with handleSignals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ handleSignals: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('reopens the access log and removes its handlers on close', async () => {
    const before = process.listenerCount('SIGHUP');
    expect(before).toBeGreaterThan(0);
    await h.request('GET', '/healthz', undefined, { 'x-request-id': 'hup-before' });
    await h.log('hup-before');
    await rename(h.logPath, join(h.dir, 'hup.1'));
    process.emit('SIGHUP');
    await eventually(async () => {
      await h.request('GET', '/healthz', undefined, { 'x-request-id': 'hup-after' });
      return (await readLog(h.logPath)).some((e) => e.request_id === 'hup-after') ? true : undefined;
    }, 'a line in the reopened log');
    await h.svc.close();
    expect(process.listenerCount('SIGHUP')).toBe(before - 1);
  });
});
