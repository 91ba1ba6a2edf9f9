import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { ProbeConfig } from '../../src/exporter/config/schema.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { ProbeCollector, registerProbeFamilies } from '../../src/exporter/collectors/probe/collector.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';
import { isProbeSuccess, probeHttp } from '../../src/exporter/sources/http-prober.js';
import { createApp } from '../../src/exporter/server/app.js';
import { sampleSum } from '../helpers/exposition.js';
import { documentedIn, familiesOf } from '../helpers/metrics-doc.js';
import { freePort } from '../helpers/net.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/** A stand-in for the CRM's health endpoint. */
let target: Server;
let base: string;
const SLOW_MS = 3000;
/** What `/toggle` answers: flipped by a test to simulate the service going down and back. */
let toggleStatus = 200;

beforeAll(async () => {
  target = createServer((req, res) => {
    switch (req.url) {
      case '/ok':
        res.end('ok');
        return;
      case '/down':
        res.writeHead(503).end('down');
        return;
      case '/toggle':
        res.writeHead(toggleStatus).end();
        return;
      case '/teapot':
        res.writeHead(418).end();
        return;
      case '/redirect':
        res.writeHead(302, { location: '/ok' }).end();
        return;
      case '/slow': {
        const timer = setTimeout(() => res.end('late'), SLOW_MS);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case '/slow-body': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        const timer = setTimeout(() => res.end('late'), SLOW_MS);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});

afterAll(async () => {
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
});

async function scrapeOnce(
  config: ProbeConfig,
  deadlineMs = 5000,
): Promise<{ text: string; ms: number; logs: string[] }> {
  const registry = new Registry();
  const logs: string[] = [];
  const collector = new ProbeCollector({ config, registry, log: (m) => logs.push(m) });
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: (m) => logs.push(m) });
  const started = performance.now();
  await orchestrator.run(deadlineMs);
  const ms = performance.now() - started;
  const text = await registry.metrics();
  await orchestrator.close();
  return { text, ms, logs };
}

/** Generous slack for a shared 2-core machine: bounds prove "cut off by the timeout", not a latency. */
const SLACK_MS = 1000;

describe('HTTP probe', () => {
  it.each([
    ['/ok', undefined, 1, 200],
    ['/down', undefined, 0, 503],
    ['/teapot', undefined, 0, 418],
    ['/teapot', 418, 1, 418],
    ['/down', 418, 0, 503],
    ['/ok', 418, 1, 200],
    ['/redirect', undefined, 1, 200],
    ['/redirect', 302, 1, 302],
    ['/missing', undefined, 0, 404],
  ])('%s with expected_status %s: success %i, status %i', async (path, expected, success, status) => {
    const { text } = await scrapeOnce({ url: `${base}${path}`, timeout: 2000, expected_status: expected });
    expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'probe' })).toBe(1);
    expect(sampleSum(text, 'crm_probe_success')).toBe(success);
    expect(sampleSum(text, 'crm_probe_http_status_code')).toBe(status);
    expect(sampleSum(text, 'crm_probe_duration_seconds')).toBeGreaterThan(0);
    expect(sampleSum(text, 'crm_probe_duration_seconds')).toBeLessThan(2);
  });

  it('a response slower than the timeout is success 0, status 0, within about the timeout', async () => {
    const { text, ms, logs } = await scrapeOnce({ url: `${base}/slow`, timeout: 500 });
    expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'probe' })).toBe(1);
    expect(sampleSum(text, 'crm_probe_success')).toBe(0);
    expect(sampleSum(text, 'crm_probe_http_status_code')).toBe(0);
    expect(sampleSum(text, 'crm_probe_duration_seconds')).toBeGreaterThanOrEqual(0.45);
    expect(ms).toBeLessThan(500 + SLACK_MS);
    expect(logs.join('\n')).toMatch(/probe http:\/\/127\.0\.0\.1:\d+\/slow failed: timed out after 500 ms/);
  });

  it('a body that stalls past the timeout is success 0 with the status that arrived', async () => {
    const { text, ms } = await scrapeOnce({ url: `${base}/slow-body`, timeout: 500 });
    expect(sampleSum(text, 'crm_probe_success')).toBe(0);
    expect(sampleSum(text, 'crm_probe_http_status_code')).toBe(200);
    expect(ms).toBeLessThan(500 + SLACK_MS);
  });

  it('a closed port (service stopped) is success 0 and status 0, at once', async () => {
    const port = await freePort();
    const { text, ms, logs } = await scrapeOnce({ url: `http://127.0.0.1:${port}/health`, timeout: 2000 });
    expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'probe' })).toBe(1);
    expect(sampleSum(text, 'crm_probe_success')).toBe(0);
    expect(sampleSum(text, 'crm_probe_http_status_code')).toBe(0);
    expect(ms).toBeLessThan(2000);
    expect(logs.join('\n')).toMatch(/ECONNREFUSED/);
  });

  it('a scrape deadline shorter than the probe timeout fails the collector and leaves success 0, no stale values', async () => {
    const { text, ms } = await scrapeOnce({ url: `${base}/slow`, timeout: 5000 }, 300);
    expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'probe' })).toBe(0);
    expect(text).toMatch(/^crm_probe_success 0$/m);
    expect(text).not.toMatch(/^crm_probe_duration_seconds /m);
    expect(text).not.toMatch(/^crm_probe_http_status_code /m);
    expect(ms).toBeLessThan(300 + SLACK_MS);
  });

  it('logs when the probe starts failing and when it recovers, not on every scrape', async () => {
    const logs: string[] = [];
    const collector = new ProbeCollector({
      config: { url: `${base}/toggle`, timeout: 1000 },
      registry: new Registry(),
      log: (m) => logs.push(m),
    });
    const signal = new AbortController().signal;
    toggleStatus = 200;
    await collector.update(signal);
    toggleStatus = 503;
    await collector.update(signal);
    await collector.update(signal);
    toggleStatus = 200;
    await collector.update(signal);
    expect(logs).toEqual([
      expect.stringMatching(/\/toggle failed: HTTP 503$/),
      expect.stringMatching(/succeeded again$/),
    ]);
  });

  it.each([
    [200, undefined, true],
    [204, undefined, true],
    [299, undefined, true],
    [300, undefined, false],
    [199, undefined, false],
    [401, 401, true],
    [200, 401, true],
    [500, 401, false],
  ])('isProbeSuccess(%i, %s) = %s', (status, expected, success) => {
    expect(isProbeSuccess(status, expected)).toBe(success);
  });

  it('probeHttp rejects only when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = probeHttp({ url: `${base}/slow`, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('scrape deadline')), 100);
    await expect(pending).rejects.toThrow('scrape deadline');
  });
});

describe('probe exposition', () => {
  async function golden(): Promise<string> {
    const registry = new Registry();
    const result = { success: true, status: 200, durationSeconds: 0.0123, error: undefined };
    registerProbeFamilies(registry, () => result);
    const text = await renderPrometheusText(registry);
    expect(await registry.metrics()).toBe(text);
    return text;
  }

  it('matches the golden file', async () => {
    const text = await golden();
    await expect(text).toMatchFileSnapshot('../golden/probe.prom');
    expect(familiesOf(text)).toEqual(documentedIn('Probe'));
  });

  it('the real /metrics passes promtool check metrics with zero findings', async () => {
    const registry = new Registry();
    const collector = new ProbeCollector({
      config: { url: `${base}/ok`, timeout: 1000 },
      registry,
      log: () => undefined,
    });
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: () => undefined });
    const app = createApp({
      registry,
      orchestrator,
      scrape: { default_timeout: 5000, max_timeout: 10_000, margin: 500 },
      version: 'test',
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const body = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
      expect(sampleSum(body, 'crm_probe_success')).toBe(1);
      expect(promtoolCheckMetrics(body)).toBe('');
      expect(promtoolCheckMetrics(await golden())).toBe('');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
