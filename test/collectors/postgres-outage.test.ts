import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/exporter/config/load.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { PostgresCollector } from '../../src/exporter/collectors/postgres/collector.js';
import { registerBuildInfo } from '../../src/exporter/metrics/build-info.js';
import { createApp } from '../../src/exporter/server/app.js';
import { freePort } from '../helpers/net.js';
import {
  parseExposition,
  select,
  sleep,
  startPrivateInstance,
  value,
  type PrivateInstance,
  type Sample,
} from '../helpers/postgres.js';
import { eventually } from '../helpers/wait.js';

/*
 * Outages seen through HTTP (createApp + listen(0) + fetch): PostgreSQL down, a closed port, and a server that
 * accepts TCP but never answers. Each must give crm_pg_up 0 and success 0 within the scrape deadline, keep the rest
 * of /metrics served, never pile up connections, and recover without restarting the exporter.
 */

const scrapeConfig = { default_timeout: 10_000, max_timeout: 30_000, margin: 500 };

interface Exporter {
  collector: PostgresCollector;
  logs: string[];
  /** GET /metrics with Prometheus's timeout header; resolves with the samples and the wall time. */
  scrape(timeoutSeconds?: number): Promise<{ samples: Sample[]; ms: number; status: number }>;
  close(): Promise<void>;
}

const open: Exporter[] = [];

async function exporter(postgres: Record<string, unknown>): Promise<Exporter> {
  const config = parseConfig({ postgres }).postgres;
  if (!config) throw new Error('no postgres section');
  const registry = new Registry();
  registerBuildInfo(registry, '0.0.0-test');
  const logs: string[] = [];
  const collector = new PostgresCollector({ config, registry, log: (line) => logs.push(line) });
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: (line) => logs.push(line) });
  const app = createApp({ registry, orchestrator, scrape: scrapeConfig, version: '0.0.0-test' });
  const server: Server = createHttpServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const e: Exporter = {
    collector,
    logs,
    async scrape(timeoutSeconds = 3) {
      const started = Date.now();
      const res = await fetch(`${base}/metrics`, {
        headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutSeconds) },
      });
      const text = await res.text();
      return { samples: parseExposition(text), ms: Date.now() - started, status: res.status };
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await orchestrator.close();
    },
  };
  open.push(e);
  return e;
}

function expectDown(samples: Sample[]): void {
  expect(value(samples, 'crm_pg_up')).toBe(0);
  expect(value(samples, 'crm_scrape_collector_success', { collector: 'postgres' })).toBe(0);
  // Nothing stale from PostgreSQL, and the rest of /metrics is still served.
  expect(samples.filter((s) => s.name.startsWith('crm_pg_') && s.name !== 'crm_pg_up')).toEqual([]);
  expect(value(samples, 'crm_exporter_build_info', { version: '0.0.0-test' })).toBe(1);
}

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((e) => e.close()));
});

describe('PostgreSQL outages through /metrics', () => {
  it('a closed port: down at once, no secret in the logs', async () => {
    const port = await freePort();
    const e = await exporter({ url: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/postgres`, timeout: '2s' });
    const { samples, ms, status } = await e.scrape(3);
    expect(status).toBe(200);
    expect(ms).toBeLessThan(2_500);
    expectDown(samples);
    expect(e.logs.join('\n')).toMatch(/ECONNREFUSED/);
    expect(e.logs.join('\n')).not.toContain('s3cret-pw');
  });

  describe('a server that accepts TCP and never answers', () => {
    let hang: NetServer;
    let hangPort: number;
    const sockets = new Set<Socket>();
    let peak = 0;

    beforeAll(async () => {
      hang = createServer((socket) => {
        sockets.add(socket);
        peak = Math.max(peak, sockets.size);
        socket.on('error', () => undefined);
        socket.resume(); // reads (and drops) the startup packet, so a client's close is seen here
        socket.on('close', () => sockets.delete(socket));
        // ... and never answers.
      });
      await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
      hangPort = (hang.address() as AddressInfo).port;
    });

    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hang.close(resolve));
    });

    it('connect timeout (postgres.timeout) shorter than the deadline: down in time, one socket at a time, none left', async () => {
      const e = await exporter({ url: `postgres://postgres@127.0.0.1:${hangPort}/postgres`, timeout: '800ms' });
      peak = 0;
      for (let i = 0; i < 4; i++) {
        const { samples, ms } = await e.scrape(3); // deadline 2.5 s
        expect(ms).toBeLessThan(2_000);
        expectDown(samples);
      }
      expect(peak).toBe(1);
      await eventually(async () => (sockets.size === 0 ? true : undefined), 'no open socket', 3_000);
      expect(e.logs.join('\n')).toMatch(/timeout|terminated/i);
    });

    it('deadline shorter than the connect timeout: the scrape answers at the deadline and connections do not pile up', async () => {
      const e = await exporter({ url: `postgres://postgres@127.0.0.1:${hangPort}/postgres`, timeout: '5s' });
      peak = 0;
      for (let i = 0; i < 5; i++) {
        const { samples, ms } = await e.scrape(1); // deadline 0.5 s
        expect(ms).toBeLessThan(1_200);
        expectDown(samples);
        expect(e.logs.at(-1)).toMatch(/did not finish within 500 ms/);
      }
      // The pool holds a single pending connection; later scrapes queue behind it instead of opening more.
      expect(peak).toBe(1);
      expect(e.collector.pools.totalConnections).toBeLessThanOrEqual(1);
      await e.close();
      open.splice(open.indexOf(e), 1);
      await eventually(async () => (sockets.size === 0 ? true : undefined), 'no open socket', 7_000);
    });
  });

  describe('PostgreSQL stopped and started again (private instance)', () => {
    let instance: PrivateInstance;

    beforeAll(async () => {
      instance = await startPrivateInstance();
    }, 60_000);

    afterAll(async () => {
      await instance?.destroy();
    }, 60_000);

    it('goes down within the deadline and recovers without a restart', async () => {
      const e = await exporter({ url: instance.url('postgres'), databases: ['postgres'], timeout: '1s' });
      const healthy = await e.scrape(3);
      expect(value(healthy.samples, 'crm_pg_up')).toBe(1);
      expect(value(healthy.samples, 'crm_scrape_collector_success', { collector: 'postgres' })).toBe(1);
      expect(select(healthy.samples, 'crm_pg_database_size_bytes', { database: 'postgres' })).toHaveLength(1);

      await instance.stop();
      for (let i = 0; i < 3; i++) {
        const { samples, ms, status } = await e.scrape(3);
        expect(status).toBe(200);
        expect(ms).toBeLessThan(2_500);
        expectDown(samples);
      }

      await instance.start();
      const back = await eventually(async () => {
        const { samples } = await e.scrape(3);
        return value(samples, 'crm_pg_up') === 1 ? samples : undefined;
      });
      expect(value(back, 'crm_scrape_collector_success', { collector: 'postgres' })).toBe(1);
      expect(select(back, 'crm_pg_database_size_bytes', { database: 'postgres' })).toHaveLength(1);
      expect(e.collector.pools.totalConnections).toBeLessThanOrEqual(1);
      await sleep(50);
    });
  });
});
