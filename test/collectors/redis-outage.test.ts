import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { RedisConfig } from '../../src/exporter/config/schema.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { RedisCollector } from '../../src/exporter/collectors/redis/collector.js';
import { createApp } from '../../src/exporter/server/app.js';
import { sampleSum } from '../helpers/exposition.js';
import { PrivateRedis, startSilentListener } from '../helpers/redis-server.js';

/*
 * Outages, through the real HTTP surface: a private redis-server killed and restarted on the same port, and a TCP
 * listener that accepts and never answers. The shared Redis is never touched here.
 */

interface Exporter {
  /** GET /metrics; returns the body and the wall time in ms. */
  scrape(): Promise<{ body: string; ms: number }>;
  logs: string[];
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Scrape deadline: Prometheus's timeout (header) 2 s minus the 500 ms margin = 1.5 s. */
const SCRAPE_TIMEOUT_S = 2;
const DEADLINE_MS = 1500;
/** Generous slack for a shared 2-core machine: the bound proves "bounded by the deadline", not a latency. */
const SLACK_MS = 1500;

async function startExporter(redis: Partial<RedisConfig> & { url: string }): Promise<Exporter> {
  const registry = new Registry();
  const logs: string[] = [];
  const config: RedisConfig = {
    timeout: 1000,
    key_groups: [{ name: 'cache', pattern: 'customer:*' }],
    key_group_scan_budget: 10_000,
    ...redis,
  };
  const collector = new RedisCollector({ config, registry });
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: (m) => logs.push(m) });
  const app = createApp({
    registry,
    orchestrator,
    scrape: { default_timeout: 10_000, max_timeout: 30_000, margin: 500 },
    version: 'test',
  });
  const server: Server = createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const exporter: Exporter = {
    logs,
    async scrape() {
      const started = performance.now();
      const res = await fetch(`${base}/metrics`, {
        headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(SCRAPE_TIMEOUT_S) },
      });
      const body = await res.text();
      return { body, ms: performance.now() - started };
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await orchestrator.close();
    },
  };
  cleanups.push(() => exporter.close());
  return exporter;
}

function expectDown(body: string): void {
  expect(sampleSum(body, 'crm_redis_up')).toBe(0);
  expect(sampleSum(body, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(0);
  // no stale values while down: only crm_redis_up remains of the Redis families
  expect(body).not.toMatch(/^crm_redis_(?!up )\w+(\{[^}]*\})? /m);
}

describe('Redis outages', () => {
  it('killed: up 0 within the deadline, one log line for the outage and one for the recovery, back to up 1 after a restart on the same port', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const exporter = await startExporter({ url: redis.url });

    const first = await exporter.scrape();
    expect(sampleSum(first.body, 'crm_redis_up')).toBe(1);
    expect(sampleSum(first.body, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(1);
    expect(first.body).toMatch(/^crm_redis_key_group_keys\{group="cache"\} 0$/m);

    await redis.kill();
    for (let i = 0; i < 3; i++) {
      const down = await exporter.scrape();
      expectDown(down.body);
      expect(down.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
    // one line for the outage however many scrapes fail (the orchestrator's; the connection itself logs nothing)
    expect(exporter.logs, exporter.logs.join('\n')).toEqual([
      expect.stringMatching(/^collector redis failed: redis redis:\/\/127\.0\.0\.1:\d+\/0: /),
    ]);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    let body = '';
    while (Date.now() < deadline) {
      body = (await exporter.scrape()).body;
      if (sampleSum(body, 'crm_redis_up') === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(sampleSum(body, 'crm_redis_up')).toBe(1);
    expect(sampleSum(body, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(1);
    expect(body).toMatch(/^crm_redis_uptime_seconds \d+$/m);
    expect(exporter.logs.slice(1)).toEqual([
      expect.stringMatching(/^collector redis succeeded again after [3-9]\d* failed attempts$/),
    ]);
  });

  it('hung after being healthy (SIGSTOP): up 0 within the deadline, up 1 again after SIGCONT', async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    const exporter = await startExporter({ url: redis.url });
    expect(sampleSum((await exporter.scrape()).body, 'crm_redis_up')).toBe(1);

    redis.pause();
    for (let i = 0; i < 2; i++) {
      const { body, ms } = await exporter.scrape();
      expectDown(body);
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
    redis.resume();
    const deadline = Date.now() + 10_000;
    let body = '';
    while (Date.now() < deadline) {
      body = (await exporter.scrape()).body;
      if (sampleSum(body, 'crm_redis_up') === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(sampleSum(body, 'crm_redis_up')).toBe(1);
  });

  it('never started: a refused connection is up 0 at once', async () => {
    const redis = await PrivateRedis.start();
    await redis.stop();
    const exporter = await startExporter({ url: redis.url });
    const { body, ms } = await exporter.scrape();
    expectDown(body);
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
  });

  it.each([
    ['the Redis timeout (1 s) is shorter than the scrape deadline', 1000],
    ['the scrape deadline is shorter than the Redis timeout (5 s)', 5000],
  ])('a port that accepts and never answers: up 0 within the deadline when %s', async (_name, timeout) => {
    const silent = await startSilentListener();
    cleanups.push(() => silent.close());
    const exporter = await startExporter({ url: `redis://127.0.0.1:${silent.port}`, timeout });
    for (let i = 0; i < 2; i++) {
      const { body, ms } = await exporter.scrape();
      expectDown(body);
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
  });
});
