import { afterEach, describe, expect, it } from 'vitest';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { LineProcessor } from '../../src/exporter/logs/pipeline.js';
import { createApp } from '../../src/exporter/server/app.js';
import { renderOpenMetrics } from '../../src/exporter/server/openmetrics.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';

/*
 * /metrics is streamed in chunks encoded into slabs that later answers reuse (src/exporter/server/chunks.ts). Answers of
 * several megabytes, read slowly and concurrently, must still be exactly the exposition.
 */

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** ~9 MB of exposition (more than the kernel buffers a client that stops reading): 4,000 routes, plus prom-client families. */
function bigRegistry(): Registry {
  const registry = new Registry();
  new Gauge({ name: 'demo_before', help: 'A family before the access-log ones.', registers: [registry] }).set(1);
  const source = configSchema.parse({ logs: [{ name: 'big', path: '/dev/null', format: 'json', max_routes: 5000 }] })
    .logs[0] as LogSourceConfig;
  const p = new LineProcessor(source, registry);
  for (let i = 0; i < 16_000; i++) {
    const line = Buffer.from(
      JSON.stringify({
        method: ['GET', 'POST', 'PUT'][i % 3],
        path: '/x',
        route: `/route-${i % 4000}/${'r'.repeat(100)}`,
        status: 200 + (i % 4),
        duration_ms: i % 700,
        bytes: i,
      }),
    );
    p.line(line, 0, line.length);
  }
  new Gauge({ name: 'demo_after', help: 'A family after them.', registers: [registry] }).set(2);
  return registry;
}

/** Reads the whole body; `held` (when given) is awaited after the first chunk before reading on (a stalled client). */
function fetchBody(url: string, accept: string | undefined, held?: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { headers: accept ? { Accept: accept } : {} }, (res) => {
      const parts: Buffer[] = [];
      let first = true;
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        if (first && held) {
          first = false;
          res.pause();
          void held().then(() => res.resume());
        }
      });
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Serves `registry` on a free port; the /metrics URL. */
async function serve(registry: Registry): Promise<string> {
  const scrape = { default_timeout: 10_000, max_timeout: 30_000, margin: 500 };
  const listening = createServer(createApp({ registry, scrape, version: 't' })).listen(0, '127.0.0.1');
  server = listening;
  await new Promise((resolve) => listening.once('listening', resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}/metrics`;
}

describe('/metrics streaming', () => {
  it('concurrent answers, one stalled, are each exactly the exposition, again and again', async () => {
    const registry = bigRegistry();
    const text = await renderPrometheusText(registry);
    const openMetrics = await renderOpenMetrics(registry);
    expect(text.length).toBeGreaterThan(8_000_000); // more than a slab, more than the kernel holds for a stalled client

    const url = await serve(registry);
    const om = 'application/openmetrics-text;version=1.0.0';
    for (let round = 0; round < 2; round++) {
      // A client stalls after its first chunk; meanwhile two other answers are rendered, sent and finished. Most of
      // the stalled answer is still waiting in the exporter then, and must come out intact.
      let started!: () => void;
      let release!: () => void;
      const stalledStarted = new Promise<void>((resolve) => (started = resolve));
      const othersDone = new Promise<void>((resolve) => (release = resolve));
      const stalled = fetchBody(url, undefined, async () => {
        started();
        await othersDone;
      });
      await stalledStarted;
      const [fast, fastOm] = await Promise.all([fetchBody(url, undefined), fetchBody(url, om)]);
      release();
      expect(fast === text).toBe(true);
      expect(fastOm === openMetrics).toBe(true);
      expect((await stalled) === text).toBe(true);
    }
  });

  it('a client that goes away mid-answer leaves the next answers intact', async () => {
    const registry = bigRegistry();
    const text = await renderPrometheusText(registry);
    const url = await serve(registry);
    await new Promise<void>((resolve) => {
      const req = get(url, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
    });
    expect((await fetchBody(url, undefined)) === text).toBe(true);
  });
});
