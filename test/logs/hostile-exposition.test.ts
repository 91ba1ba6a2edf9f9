import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { createLogPipeline } from '../../src/exporter/logs/pipeline.js';
import { createApp } from '../../src/exporter/server/app.js';
import { checkExposition, type ExpositionSample } from '../helpers/exposition.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import {
  hostileJsonLine,
  hostileLineBytes,
  hostileNginxLine,
  hostileRegexLine,
  NGINX_FORMAT,
  REGEX_PATTERN,
} from '../helpers/hostile.js';

/*
 * Issue 11 B5, end to end from the file: hostile access-log lines written to a file, read by the real pipeline
 * (tailer, parser, routes, aggregation) into a fresh Registry, and served by the real /metrics in both formats.
 * Properties: nothing throws; every exposition line is well formed with its label values escaped (and unescaping a
 * route label gives back exactly the route the exporter holds); every line is counted once
 * (crm_log_lines_total = requests + parse errors = lines in the file); and `promtool check metrics` accepts a sample.
 */
let dir: string;
let run = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-hostile-exposition-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Per format: config, hostile lines, and one accepted line whose route needs every escape the format allows. */
const SOURCES: Array<[string, Record<string, unknown>, fc.Arbitrary<string>, string]> = [
  [
    'json',
    { format: 'json' },
    hostileJsonLine,
    '{"method":"GET","path":"/p","route":"/a\\\\b\\"c\\nd","status":200,"duration_ms":1}',
  ],
  [
    'nginx',
    { format: 'nginx', log_format: NGINX_FORMAT, routes: ['/static/*', '/api/customers/:id'] },
    hostileNginxLine,
    '10.0.0.1 - - [27/Nov/2026:08:00:00 +0000] "GET /a\\b\\x22c HTTP/1.1" 200 5 "-" "-" 0.1 0.1 HIT',
  ],
  ['regex', { format: 'regex', pattern: REGEX_PATTERN }, hostileRegexLine, 'GET /a\\b"c 200 1ms bytes=1'],
];

const sum = (samples: ExpositionSample[], name: string): number =>
  samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

async function serve(
  registry: Registry,
): Promise<{ get(openMetrics: boolean): Promise<string>; close(): Promise<void> }> {
  const app = createApp({
    registry,
    scrape: { default_timeout: 10_000, max_timeout: 30_000, margin: 500 },
    version: 'test',
  });
  const server: Server = createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async get(openMetrics) {
      const res = await fetch(`${base}/metrics`, {
        headers: openMetrics ? { Accept: 'application/openmetrics-text; version=1.0.0' } : {},
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(openMetrics ? 'application/openmetrics-text' : 'text/plain');
      return res.text();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(SOURCES)(
  '%s log with hostile lines, read from a file and served on /metrics',
  (format, extra, lineArb, escapedRoute) => {
    it('serves only well-formed, escaped lines in both formats and counts every line once', async () => {
      let promtoolRuns = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileLineBytes(lineArb), { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 256, max: 400 }),
          async (lines, maxLineBytes) => {
            const path = join(dir, `${format}-${run++}.log`);
            const content = Buffer.concat([...lines, Buffer.from(escapedRoute)].flatMap((l) => [l, Buffer.from('\n')]));
            await writeFile(path, content);
            const expectedLines = content.filter((b) => b === 10).length;
            const source = configSchema.parse({
              logs: [
                {
                  name: `hostile_${format}`,
                  path,
                  start_at: 'beginning',
                  max_line_bytes: maxLineBytes,
                  max_routes: 20,
                  ...extra,
                },
              ],
            }).logs[0] as LogSourceConfig;
            const registry = new Registry();
            const pipeline = createLogPipeline(source, registry, { watch: false });
            await pipeline.start();
            await pipeline.caughtUp();
            await pipeline.close();
            const server = await serve(registry);
            try {
              for (const openMetrics of [false, true]) {
                const text = await server.get(openMetrics);
                const samples = checkExposition(text, openMetrics);
                const requests = sum(samples, 'crm_http_requests_total');
                const errors = sum(samples, 'crm_log_parse_errors_total');
                expect(sum(samples, 'crm_log_lines_total')).toBe(expectedLines);
                expect(requests + errors).toBe(expectedLines);
                // escaping round trip: every route label is exactly a route the exporter holds
                const routes = new Set(pipeline.processor.routes.names);
                for (const s of samples)
                  if ('route' in s.labels)
                    expect(routes.has(s.labels.route as string), `route ${JSON.stringify(s.labels.route)}`).toBe(true);
                if (!openMetrics && promtoolRuns < 8 && /\\[\\"n]/.test(text)) {
                  promtoolRuns++;
                  expect(promtoolCheckMetrics(text), 'promtool check metrics').toBe('');
                }
              }
            } finally {
              await server.close();
            }
          },
        ),
        { numRuns: 60 },
      );
      expect(
        promtoolRuns,
        'no run produced a label that needed escaping: the generator lost its teeth',
      ).toBeGreaterThan(0);
    }, 120_000);
  },
);
