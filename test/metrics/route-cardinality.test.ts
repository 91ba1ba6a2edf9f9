import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { METHOD_COUNT } from '../../src/parsers/http-method.js';
import { metricsSizeBound } from '../../src/metrics/log-metrics.js';

/*
 * Issue 11 A3, the cardinality attack: 1,000,000 requests with random paths (most short, some up to 8 KiB, the
 * first 10,000 cycling through 250 paths of 8 KiB with every method and status, as in the original report) through
 * the real, built log pipeline (FileTailer -> nginx parser -> route templating -> aggregator) in a child process with
 * the default limits, then one scrape in each format through the server's renderers. The series stay within
 * max_routes, every route label within max_route_length, /metrics within its documented bound (docs/metrics.md),
 * and the child's peak RSS (process.resourceUsage().maxRSS) within 120 MiB. Before the cap: labels of 8,031
 * characters, 283 MB per scrape, 1.2 GB RSS. dist/ must be built (npm test does).
 */

const LINES = 1_000_000;
const FIRST_LONG = 10_000;
const LONG_PATHS = 250;
const STATUSES = [200, 301, 400, 404, 405, 414, 499, 500];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'X'.repeat(40)];
const PATH_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%/';
const MAX_RSS_MIB = 120;
/** combined + durations: the histogram is the family an attack multiplies most. */
const NGINX_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time';

/** mulberry32: the same attack on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

/** The child: the built pipeline, then one scrape in each format through the server's renderers. */
const CHILD = `
import { writeFileSync } from 'node:fs';
const { Registry } = await import(process.env.PROM_CLIENT_URL);
const { configSchema } = await import(process.env.SCHEMA_URL);
const { createLogPipeline } = await import(process.env.PIPELINE_URL);
const { renderMetrics } = await import(process.env.RENDER_URL);
const config = configSchema.parse({ logs: [{ name: 'attack', path: process.env.LOG_PATH, format: 'nginx', log_format: process.env.LOG_FORMAT, start_at: 'beginning' }] });
const source = config.logs[0];
const registry = new Registry();
const pipeline = createLogPipeline(source, registry, { watch: false });
await pipeline.start();
await pipeline.caughtUp();
writeFileSync(process.env.OUT_PATH + '.txt', (await renderMetrics(registry, false)).body);
writeFileSync(process.env.OUT_PATH + '.om', (await renderMetrics(registry, true)).body);
await pipeline.close();
process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, maxRoutes: source.max_routes, maxRouteLength: source.max_route_length, buckets: source.buckets.length }));
`;

interface ChildReport {
  maxRssKiB: number;
  maxRoutes: number;
  maxRouteLength: number;
  buckets: number;
}

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

  it('1,000,000 random paths and methods: series, label length, /metrics size and peak RSS stay bounded', { timeout: 300_000 }, async () => {
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

    const childPath = join(dir, 'child.mjs');
    const outPath = join(dir, 'metrics.txt');
    await writeFile(childPath, CHILD);
    const child = spawn(process.execPath, [childPath], {
      cwd: process.cwd(),
      env: { ...process.env, PROM_CLIENT_URL: pathToFileURL(createRequire(import.meta.url).resolve('prom-client')).href, SCHEMA_URL: dist('src/config/schema.js'), PIPELINE_URL: dist('src/metrics/log-pipeline.js'), RENDER_URL: dist('src/server/negotiate.js'), LOG_FORMAT: NGINX_FORMAT, LOG_PATH: logPath, OUT_PATH: outPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as ChildReport;
    const text = await readFile(`${outPath}.txt`, 'utf8');
    const openMetrics = await readFile(`${outPath}.om`, 'utf8');
    const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));

    // every line counted once
    const value = (l: string): number => Number(l.slice(l.lastIndexOf(' ') + 1));
    expect(lines.filter((l) => l.startsWith('crm_log_lines_total')).map(value)).toEqual([LINES]);
    const requests = lines.filter((l) => l.startsWith('crm_http_requests_total')).reduce((n, l) => n + value(l), 0);
    expect(requests).toBe(LINES);

    // series within the caps: routes <= max_routes (+ __other__, __none__), labels <= max_route_length
    const routes = new Set(labelValues(lines, 'crm_http_', 'route'));
    expect(routes.size).toBeLessThanOrEqual(report.maxRoutes + 2);
    const longest = Math.max(...[...routes].map((r) => r.length));
    expect(longest).toBeLessThanOrEqual(report.maxRouteLength);
    const requestSeries = lines.filter((l) => l.startsWith('crm_http_requests_total')).length;
    expect(requestSeries).toBeLessThanOrEqual((report.maxRoutes + 2) * METHOD_COUNT * STATUSES.length);
    expect(lines.filter((l) => l.startsWith('crm_log_routes_truncated_total')).map(value)[0]).toBeGreaterThanOrEqual(FIRST_LONG);

    // /metrics within the documented bound (docs/metrics.md), and the child's peak memory
    const bound = metricsSizeBound({ maxRoutes: report.maxRoutes, maxRouteLength: report.maxRouteLength, buckets: report.buckets, statuses: STATUSES.length });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(bound);
    expect(Buffer.byteLength(openMetrics)).toBeLessThanOrEqual(bound);
    expect(report.maxRssKiB / 1024).toBeLessThanOrEqual(MAX_RSS_MIB);
  });
});
