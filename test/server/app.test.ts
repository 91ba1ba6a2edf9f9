import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
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
  server = app.listen(0, '127.0.0.1');
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
    server = createApp({ registry, orchestrator, scrape, version: '1.2.3' }).listen(0, '127.0.0.1');
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
    server = createApp({
      registry,
      scrape,
      version: '1.2.3',
      snapshot: () => {
        const at = lines;
        events.push(`taken at ${at}`);
        return () => events.push(`served ${at}`);
      },
    }).listen(0, '127.0.0.1');
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
