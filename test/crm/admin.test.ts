import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/crm.js';
import { eventually } from '../helpers/wait.js';

const TOKEN = 'admin-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('admin endpoints without CRM_ADMIN_TOKEN', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('do not exist', async () => {
    expect((await h.request('GET', '/admin/faults', undefined, auth)).status).toBe(404);
    expect((await h.request('PUT', '/admin/faults', { error_rate: 1 }, auth)).status).toBe(404);
  });
});

describe('fault injection', () => {
  let h: Harness;
  let customerId: number;
  let seq = 0;
  beforeAll(async () => {
    h = await startHarness({ adminToken: TOKEN });
    customerId = (
      await h.request('POST', '/api/customers', { name: 'Faulty', email: `faults${Date.now()}@example.com`, age: 30 })
    ).body.id;
  });
  afterAll(async () => {
    await h?.stop();
  });
  const setFaults = async (faults: object): Promise<void> => {
    const r = await h.request('PUT', '/admin/faults', faults, auth);
    expect(r.status).toBe(200);
  };
  const get = async (path: string): Promise<{ status: number; rid: string }> => {
    const rid = `admin-${++seq}`;
    return { status: (await h.request('GET', path, undefined, { 'x-request-id': rid })).status, rid };
  };

  it('are guarded by the bearer token', async () => {
    const none = await h.request('GET', '/admin/faults');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await h.request('GET', '/admin/faults', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await h.request('PUT', '/admin/faults', { error_rate: 1 }, { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    const ok = await h.request('GET', '/admin/faults', undefined, auth);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ active: false, faults: { error_rate: 0, latency_ms: 0, cache_bypass: false } });
  });

  it.each([
    [{ error_rate: 2 }, 'error_rate'],
    [{ latency_ms: -1 }, 'latency_ms'],
    [{ latency_route: 'no-slash' }, 'latency_route'],
    [{ explode: true }, 'explode'],
  ])('rejects %j naming %s', async (body, field) => {
    const r = await h.request('PUT', '/admin/faults', body, auth);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
  });

  it('injects 500s on one route only, until cleared', async () => {
    await setFaults({ error_rate: 1, error_route: '/api/customers/:id' });
    const failed = await h.request('GET', `/api/customers/${customerId}`);
    expect(failed.status).toBe(500);
    expect(failed.body.error).toBe('injected fault');
    expect((await get('/api/rankings')).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);
    expect((await h.request('DELETE', '/admin/faults', undefined, auth)).body.active).toBe(false);
    expect((await get(`/api/customers/${customerId}`)).status).toBe(200);
  });

  it('adds latency and slow queries (visible in duration_ms and db_ms)', async () => {
    await setFaults({
      latency_ms: 60,
      latency_route: '/api/rankings',
      slow_query_ms: 120,
      slow_query_route: '/api/rankings',
    });
    const { status, rid } = await get('/api/rankings');
    expect(status).toBe(200);
    const e = await h.entry(rid);
    expect(e.db_ms).toBeGreaterThanOrEqual(120);
    expect(e.duration_ms).toBeGreaterThanOrEqual(180);
    await h.request('DELETE', '/admin/faults', undefined, auth);
  });

  it('bypasses the cache, and flushes it', async () => {
    await get(`/api/customers/${customerId}`);
    expect((await h.entry((await get(`/api/customers/${customerId}`)).rid)).cache).toBe('hit');
    await setFaults({ cache_bypass: true });
    expect((await h.entry((await get(`/api/customers/${customerId}`)).rid)).cache).toBe('bypass');
    expect((await h.entry((await get('/api/rankings')).rid)).cache).toBe('bypass');
    await h.request('DELETE', '/admin/faults', undefined, auth);
    expect((await h.entry((await get(`/api/customers/${customerId}`)).rid)).cache).toBe('hit');
    const flushed = await h.request('POST', '/admin/cache/flush', undefined, auth);
    expect(flushed.status).toBe(200);
    expect(flushed.body.customer_keys_deleted).toBeGreaterThanOrEqual(1);
    expect((await h.entry((await get(`/api/customers/${customerId}`)).rid)).cache).toBe('miss');
  });

  it('switch themselves off after duration_s', async () => {
    await setFaults({ error_rate: 1, duration_s: 0.2 });
    await eventually(
      async () => ((await h.request('GET', '/admin/faults', undefined, auth)).body.active === false ? true : undefined),
      'faults to expire',
    );
    expect((await get(`/api/customers/${customerId}`)).status).toBe(200);
  });
});
