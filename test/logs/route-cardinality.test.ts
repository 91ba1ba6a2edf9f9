import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { configSchema } from '../../src/exporter/config/schema.js';
import { METHOD_COUNT } from '../../src/exporter/parsers/http-method.js';
import { metricsSizeBound } from '../../src/exporter/logs/families.js';
import { prng } from '../helpers/prng.js';

/*
 * Issue 11 A3, the cardinality attack: 1,000,000 requests with random paths (most short, some up to 8 KiB, the
 * first 10,000 cycling through 250 paths of 8 KiB with every method and status, as in the original report) through
 * the real, built log pipeline (FileTailer -> nginx parser -> route templating -> aggregator) in a child process with
 * the default limits, served by the exporter's HTTP app and scraped 10 times in both formats. The series stay within
 * max_routes, every route label within max_route_length, /metrics within its documented bound (docs/metrics.md), and
 * the child's peak RSS (process.resourceUsage().maxRSS) within 120 MiB. Before the cap: labels of 8,031 characters,
 * 283 MB per answer, 1.2 GB RSS. dist/ must be built (npm test does).
 */

const LINES = 1_000_000;
const FIRST_LONG = 10_000;
const LONG_PATHS = 250;
const STATUSES = [200, 301, 400, 404, 405, 414, 499, 500];
const METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'get',
  'X'.repeat(40),
];
const PATH_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%/';
const MAX_RSS_MIB = 120;
/** combined + durations: the histogram is the family an attack multiplies most. */
const NGINX_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time';

/** Random path text: slices of one random pool (a random character per byte would dominate the test's time). */
function pathMaker(rnd: () => number): (length: number) => string {
  let pool = '';
  while (pool.length < 1 << 16) pool += PATH_CHARS[Math.floor(rnd() * PATH_CHARS.length)];
  return (length) => {
    const at = Math.floor(rnd() * (pool.length - length));
    return `/${pool.slice(at, at + length - 1)}`;
  };
}

/**
 * The first FIRST_LONG requests cycle through LONG_PATHS distinct 8 KiB paths with every method and status (what
 * multiplies the series of the original report), then a mix: 97% short random paths (some with a query string),
 * 3% random 129 B - 8 KiB paths.
 */
function attack(rnd: () => number): (i: number) => string {
  const path = pathMaker(rnd);
  const longPaths = Array.from({ length: LONG_PATHS }, () => path(8192));
  return (i) => {
    let p: string;
    if (i < FIRST_LONG) p = longPaths[Math.floor(rnd() * LONG_PATHS)] as string;
    else if (rnd() < 0.03) p = path(129 + Math.floor(rnd() * 8064));
    else p = path(2 + Math.floor(rnd() * 60)) + (rnd() < 0.3 ? `?q=${Math.floor(rnd() * 1e9)}` : '');
    const method = METHODS[Math.floor(rnd() * METHODS.length)];
    const status = STATUSES[Math.floor(rnd() * STATUSES.length)];
    return `203.0.113.${i % 250} - - [27/Nov/2026:08:00:00 +0000] "${method} ${p} HTTP/1.1" ${status} ${i % 5000} "-" "attack/1.0" 0.0${i % 10}3 -\n`;
  };
}

/**
 * The child: the built pipeline on the config the schema resolved in the parent (like bench:ingest, the child
 * measures the pipeline and the HTTP surface, not the config loader), served by the exporter's app. It reports
 * its peak RSS when the parent, done scraping, asks.
 */
const CHILD = `
const { Registry } = await import(process.env.PROM_CLIENT_URL);
const { createLogPipeline } = await import(process.env.PIPELINE_URL);
const { createApp } = await import(process.env.APP_URL);
const { createServer } = await import('node:http');
const { source, scrape } = JSON.parse(process.env.CONFIG_JSON);
const registry = new Registry();
const pipeline = createLogPipeline(source, registry, { watch: false });
await pipeline.start();
await pipeline.caughtUp();
const server = createServer(createApp({ registry, scrape, version: 'test' })).listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.once('message', async () => {
  process.send({ maxRssKiB: process.resourceUsage().maxRSS });
  server.close();
  await pipeline.close();
  process.disconnect();
});
`;

const SCRAPES = 10;

const dist = (p: string): string => pathToFileURL(join(process.cwd(), 'dist', p)).href;

/** Label values of `name` on the sample lines of `family` (prefix match: histogram _bucket/_sum/_count too). */
function labelValues(lines: readonly string[], family: string, name: string): string[] {
  const re = new RegExp(`[{,]${name}="((?:[^"\\\\]|\\\\.)*)"`);
  return lines.filter((l) => l.startsWith(family)).map((l) => re.exec(l)?.[1] ?? '');
}

describe('route cardinality attack (issue 11 A3)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crm-cardinality-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    '1,000,000 random paths and methods: series, label length, /metrics size and peak RSS stay bounded',
    { timeout: 300_000 },
    async () => {
      const logPath = join(dir, 'access.log');
      const out = createWriteStream(logPath);
      const line = attack(prng(11));
      let chunk = '';
      for (let i = 0; i < LINES; i++) {
        chunk += line(i);
        if (chunk.length > 1 << 22) {
          if (!out.write(chunk)) await once(out, 'drain');
          chunk = '';
        }
      }
      out.end(chunk);
      await once(out, 'finish');

      // the defaults, as the schema resolves them (max_routes 200, max_route_length 128, 11 buckets)
      const config = configSchema.parse({
        logs: [{ name: 'attack', path: logPath, format: 'nginx', log_format: NGINX_FORMAT, start_at: 'beginning' }],
      });
      const source = config.logs[0]!;
      const childPath = join(dir, 'child.mjs');
      await writeFile(childPath, CHILD);
      const child = spawn(process.execPath, [childPath], {
        cwd: process.cwd(),
        env: {
          ...process.env,
          PROM_CLIENT_URL: pathToFileURL(createRequire(import.meta.url).resolve('prom-client')).href,
          PIPELINE_URL: dist('src/exporter/logs/pipeline.js'),
          APP_URL: dist('src/exporter/server/app.js'),
          CONFIG_JSON: JSON.stringify({ source, scrape: config.scrape }),
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = once(child, 'exit');
      const message = <T>(): Promise<T> =>
        Promise.race([
          once(child, 'message').then(([m]) => m as T),
          exited.then(() => Promise.reject(new Error(`child exited: ${stderr}`))),
        ]);
      const { port } = await message<{ port: number }>();

      // Prometheus scrapes again and again (and asks for OpenMetrics first): every body is read to its end.
      const bodies: string[] = [];
      for (let i = 0; i < SCRAPES; i++) {
        const res = await fetch(
          `http://127.0.0.1:${port}/metrics`,
          i % 2 === 1 ? { headers: { Accept: 'application/openmetrics-text;version=1.0.0' } } : {},
        );
        expect(res.status).toBe(200);
        if (i < 2) bodies.push(await res.text());
        else for await (const chunk of res.body ?? []) void chunk;
      }
      child.send('report');
      const { maxRssKiB } = await message<{ maxRssKiB: number }>();
      await exited;
      const [text = '', openMetrics = ''] = bodies;
      const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));

      // every line counted once
      const value = (l: string): number => Number(l.slice(l.lastIndexOf(' ') + 1));
      expect(lines.filter((l) => l.startsWith('crm_log_lines_total')).map(value)).toEqual([LINES]);
      const requests = lines.filter((l) => l.startsWith('crm_http_requests_total')).reduce((n, l) => n + value(l), 0);
      expect(requests).toBe(LINES);

      // series within the caps: routes <= max_routes (+ __other__, __none__), labels <= max_route_length
      const routes = new Set(labelValues(lines, 'crm_http_', 'route'));
      expect(routes.size).toBeLessThanOrEqual(source.max_routes + 2);
      const longest = Math.max(...[...routes].map((r) => r.length));
      expect(longest).toBeLessThanOrEqual(source.max_route_length);
      const requestSeries = lines.filter((l) => l.startsWith('crm_http_requests_total')).length;
      expect(requestSeries).toBeLessThanOrEqual((source.max_routes + 2) * METHOD_COUNT * STATUSES.length);
      expect(lines.filter((l) => l.startsWith('crm_log_routes_truncated_total')).map(value)[0]).toBeGreaterThanOrEqual(
        FIRST_LONG,
      );

      // /metrics within the documented bound (docs/metrics.md), and the child's peak memory
      const bound = metricsSizeBound({
        maxRoutes: source.max_routes,
        maxRouteLength: source.max_route_length,
        buckets: source.buckets.length,
        statuses: STATUSES.length,
      });
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(bound);
      expect(Buffer.byteLength(openMetrics)).toBeLessThanOrEqual(bound);
      expect(maxRssKiB / 1024).toBeLessThanOrEqual(MAX_RSS_MIB);
    },
  );
});
