import { afterEach, describe, expect, it } from 'vitest';
import { createServer, request, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Collector } from '../../src/exporter/collectors/collector.js';
import { defineFamily, registerFamily } from '../../src/exporter/exposition/family.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { createApp } from '../../src/exporter/server/app.js';
import { wantsOpenMetrics } from '../../src/exporter/server/negotiate.js';

const scrape = { default_timeout: 10_000, max_timeout: 30_000, margin: 500 };
let server: Server | undefined;

async function start(registry: Registry): Promise<string> {
  const app = createApp({
    registry,
    scrape,
    version: '1.2.3',
    sources: () => [
      { name: 'crm<x>', path: '/var/log/a.log', format: 'json', state: 'open', lines: 5, errors: 1, lagBytes: 0 },
    ],
  });
  return listen(app);
}

async function listen(listener: RequestListener): Promise<string> {
  server = createServer(listener).listen(0, '127.0.0.1');
  await new Promise((resolve) => server?.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(() => {
  server?.close();
  server = undefined;
});

function sampleRegistry(): Registry {
  const registry = new Registry();
  const counter = new Counter({
    name: 'demo_requests_total',
    help: 'Demo "requests"\\n',
    labelNames: ['route'],
    registers: [registry],
  });
  counter.inc({ route: '/a"b' }, 3);
  const histogram = new Histogram({
    name: 'demo_seconds',
    help: 'Demo latency',
    buckets: [0.1, 1],
    registers: [registry],
  });
  histogram.observe(0.05);
  return registry;
}

describe('HTTP surface', () => {
  it('serves Prometheus text by default and OpenMetrics on request, without corrupting either', async () => {
    const base = await start(sampleRegistry());
    const text1 = await fetch(`${base}/metrics`);
    expect(text1.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const om = await fetch(`${base}/metrics`, {
      headers: { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const omBody = await om.text();
    expect(omBody).toContain('# TYPE demo_requests counter');
    expect(omBody).toContain('demo_requests_total{route="/a\\"b"} 3');
    expect(omBody).toContain('demo_seconds_bucket{le="+Inf"} 1');
    expect(omBody.endsWith('# EOF\n')).toBe(true);
    // prom-client renames counters when it renders OpenMetrics itself; ours must not.
    const text2 = await (await fetch(`${base}/metrics`)).text();
    expect(text2).toContain('# TYPE demo_requests_total counter');
    expect(text2).toContain('demo_requests_total{route="/a\\"b"} 3');
  });

  it('answers /healthz, a landing page with escaped source state, and 404s', async () => {
    const base = await start(sampleRegistry());
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const landing = await (await fetch(`${base}/`)).text();
    expect(landing).toContain('crm-exporter 1.2.3');
    expect(landing).toContain('crm&lt;x&gt;');
    expect(landing).toContain('href="metrics"');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('two concurrent scrapes: the one with the shorter timeout answers at its own deadline, each with its own health', async () => {
    const registry = new Registry();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    // a collector whose source hangs (a locked table) until the test lets it answer
    const slow: Collector<number> = {
      name: 'slow',
      served: undefined,
      async update() {
        started();
        await released;
        return 7;
      },
      close: async () => undefined,
    };
    registerFamily(
      registry,
      defineFamily({ name: 'test_slow_value', help: 'served from the slow collector', type: 'gauge', labelNames: [] }),
      (emit) => {
        if (slow.served !== undefined) emit(slow.served);
      },
    );
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [slow], log: () => undefined });
    server = createServer(createApp({ registry, orchestrator, scrape, version: '1.2.3' })).listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const long = fetch(`${base}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '30' } }).then((r) =>
      r.text(),
    );
    await running; // the long scrape started the round; the short one joins it
    const short = fetch(`${base}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '0.6' } }).then((r) =>
      r.text(),
    );
    const first = await Promise.race([
      short.then((body) => ({ body })),
      long.then(() => 'the long scrape answered first'),
      new Promise((resolve) => setTimeout(() => resolve('no answer within 5 s'), 5_000)),
    ]);
    expect(first).toMatchObject({ body: expect.stringContaining('crm_scrape_collector_success{collector="slow"} 0') });
    release();
    const longBody = await long;
    expect(longBody).toContain('crm_scrape_collector_success{collector="slow"} 1');
    expect(longBody).toContain('test_slow_value 7');
  });

  it('snapshot: taken for each GET with its counters, served() once the answer finished; never for HEAD or a failed render', async () => {
    const registry = new Registry();
    let broken = false;
    let lines = 3;
    // the only family, so its failure comes before the first byte: a 500 answer (a complete HTTP response)
    new Gauge({
      name: 'demo_lines',
      help: 'Demo lines.',
      registers: [registry],
      collect() {
        if (broken) throw new Error('render failure');
        this.set(lines);
      },
    });
    const events: string[] = [];
    server = createServer(
      createApp({
        registry,
        scrape,
        version: '1.2.3',
        snapshot: () => {
          const at = lines;
          events.push(`taken at ${at}`);
          return () => events.push(`served ${at}`);
        },
      }),
    ).listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    expect(await (await fetch(`${base}/metrics`)).text()).toContain('demo_lines 3');
    await expect.poll(() => events).toEqual(['taken at 3', 'served 3']);
    expect((await fetch(`${base}/metrics`, { method: 'HEAD' })).status).toBe(200);
    broken = true;
    const failed = await fetch(`${base}/metrics`);
    expect(failed.status).toBe(500);
    await failed.text();
    broken = false;
    lines = 5;
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('demo_lines 5');
    await expect.poll(() => events).toEqual(['taken at 3', 'served 3', 'taken at 3', 'taken at 5', 'served 5']);
  });

  it.each([
    [undefined, false],
    ['text/plain', false],
    ['application/openmetrics-text; version=1.0.0', true],
    ['application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.9', false],
    ['application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1', true],
  ])('Accept %s → OpenMetrics %s', (accept, expected) => {
    expect(wantsOpenMetrics(accept)).toBe(expected);
  });
});

// What Express gave before the exporter answered with node:http alone (app.ts); the real HTTP is the point here.
describe('HTTP surface as Express answered it', () => {
  const NOT_FOUND = 'not found: see / for the available endpoints\n';

  it('HEAD /metrics: the GET headers, no body', async () => {
    const base = await start(sampleRegistry());
    const res = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  });

  it('routes ignore the query string, the case and one trailing slash', async () => {
    const base = await start(sampleRegistry());
    for (const path of ['/metrics?x=1', '/METRICS/', '/Metrics/?a=b']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain('demo_requests_total{route="/a\\"b"} 3');
    }
    expect((await fetch(`${base}/HEALTHZ/?probe=1`)).status).toBe(200);
    for (const path of ['/metrics//', '/metricsx', '/metrics.txt', '/healthz/x']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('an absolute-form request target names its path (RFC 9112 3.2.2)', async () => {
    const base = await start(sampleRegistry());
    const { port } = new URL(base);
    const status = await new Promise<number | undefined>((resolve, reject) =>
      request({ host: '127.0.0.1', port, path: 'http://example.test/healthz?x=1' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end(),
    );
    expect(status).toBe(200);
  });

  it('other methods and paths: 404 with a short text', async () => {
    const base = await start(sampleRegistry());
    for (const [method, path] of [
      ['POST', '/metrics'],
      ['PUT', '/healthz'],
      ['DELETE', '/'],
      ['OPTIONS', '/metrics'],
      ['GET', '/nope'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('content-length')).toBe(String(NOT_FOUND.length));
      expect(await res.text()).toBe(NOT_FOUND);
    }
  });

  it('/healthz and / : fixed bodies with their length, no X-Powered-By, no ETag', async () => {
    const base = await start(sampleRegistry());
    const health = await fetch(`${base}/healthz`);
    expect(health.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(health.headers.get('cache-control')).toBe('no-store');
    expect(health.headers.get('content-length')).toBe('15');
    expect(await health.text()).toBe('{"status":"ok"}');
    const landing = await fetch(`${base}/`);
    expect(landing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(landing.headers.get('content-length')).toBe(String(Buffer.byteLength(await landing.text())));
    for (const path of ['/metrics', '/healthz', '/', '/nope']) {
      const res = await fetch(`${base}${path}`);
      expect(res.headers.get('x-powered-by'), path).toBeNull();
      expect(res.headers.get('etag'), path).toBeNull();
      await res.arrayBuffer();
    }
  });

  it('a render that fails before the first byte answers 500 text; a throwing handler does not end the process', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'demo_broken',
      help: 'Always fails.',
      registers: [registry],
      collect() {
        throw new Error('render failure');
      },
    });
    const base = await listen(
      createApp({
        registry,
        scrape,
        version: '1.2.3',
        sources: () => {
          throw new Error('no source state');
        },
      }),
    );
    const failed = await fetch(`${base}/metrics`);
    expect(failed.status).toBe(500);
    expect(failed.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await failed.text()).toBe('error rendering metrics: render failure\n');
    const landing = await fetch(`${base}/`);
    expect(landing.status).toBe(500);
    expect(landing.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await landing.text()).toBe('internal error: no source state\n');
    // still serving
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
