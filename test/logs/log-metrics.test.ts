import { describe, expect, it } from 'vitest';
import { Registry, type OpenMetricsContentType } from 'prom-client';
import { logMetricsFor } from '../../src/exporter/logs/log-metrics.js';
import type { LogSourceSeries } from '../../src/exporter/logs/series.js';
import { METHOD_GET, METHOD_POST } from '../../src/exporter/parsers/http-method.js';
import {
  createRequestFields,
  PARSE_ERROR_REASONS,
  type FieldPresence,
  type RequestFields,
} from '../../src/exporter/parsers/request-fields.js';
import { renderOpenMetrics } from '../../src/exporter/server/openmetrics.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

const HAS_NONE: FieldPresence = {
  duration: true,
  bytes: true,
  upstream: false,
  db: false,
  cacheTime: false,
  cache: false,
  lock: false,
  lockWait: false,
};
const ROUTES = ['__other__', '__none__', '/a/:id', '/b'];

function source(
  registry: Registry,
  name = 'app',
  has: Partial<FieldPresence> = {},
  buckets = [0.1, 1],
): LogSourceSeries {
  return logMetricsFor(registry).addSource({
    name,
    buckets,
    reasons: ['empty_line', 'invalid_json'],
    routes: ROUTES,
    routeCapacity: ROUTES.length,
    has: { ...HAS_NONE, ...has },
  });
}

function req(fields: Partial<RequestFields>): RequestFields {
  return Object.assign(createRequestFields(), { method: METHOD_GET, status: 200 }, fields);
}

async function samples(
  registry: Registry,
  name: string,
): Promise<Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (family?.values ?? []) as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>;
}

describe('log metrics', () => {
  it('registers every family once per registry, with HELP and the documented type', async () => {
    const registry = new Registry();
    expect(logMetricsFor(registry)).toBe(logMetricsFor(registry));
    const families = await registry.getMetricsAsJSON();
    // Written out, not read from the module's own definitions: names and types are public API (docs/metrics.md).
    expect(families.map((f) => [f.name, String(f.type)])).toEqual([
      ['crm_http_requests_total', 'counter'],
      ['crm_http_request_duration_seconds', 'histogram'],
      ['crm_http_response_size_bytes_total', 'counter'],
      ['crm_http_request_phase_seconds_total', 'counter'],
      ['crm_cache_lookups_total', 'counter'],
      ['crm_lock_acquisitions_total', 'counter'],
      ['crm_lock_wait_seconds_total', 'counter'],
      ['crm_log_lines_total', 'counter'],
      ['crm_log_parse_errors_total', 'counter'],
      ['crm_log_bytes_read_total', 'counter'],
      ['crm_log_rotations_total', 'counter'],
      ['crm_log_lag_bytes', 'gauge'],
      ['crm_log_last_read_timestamp_seconds', 'gauge'],
      ['crm_log_routes_overflow_total', 'counter'],
      ['crm_log_routes_truncated_total', 'counter'],
    ]);
    for (const f of families) expect(f.help.length, f.name).toBeGreaterThan(20);
    expect(() => registry.resetMetrics()).not.toThrow();
  });

  it('counts requests per method, route and status', async () => {
    const registry = new Registry();
    const s = source(registry);
    s.record(req({ status: 200 }), 2);
    s.record(req({ status: 200 }), 2);
    s.record(req({ status: 404 }), 2);
    s.record(req({ method: METHOD_POST, status: 201 }), 3);
    expect(await samples(registry, 'crm_http_requests_total')).toEqual([
      { labels: { log: 'app', method: 'GET', route: '/a/:id', status: '200' }, value: 2 },
      { labels: { log: 'app', method: 'GET', route: '/a/:id', status: '404' }, value: 1 },
      { labels: { log: 'app', method: 'POST', route: '/b', status: '201' }, value: 1 },
    ]);
  });

  it.each([
    [0, '0.1'],
    [0.05, '0.1'],
    [0.1, '0.1'],
    [0.1000001, '1'],
    [1, '1'],
    [7, '+Inf'],
  ])('a duration of %s s is in bucket le=%s and every larger one', async (duration, le) => {
    const registry = new Registry();
    source(registry).record(req({ duration }), 2);
    const buckets = (await samples(registry, 'crm_http_request_duration_seconds')).filter((v) =>
      v.metricName?.endsWith('_bucket'),
    );
    const cumulative = Object.fromEntries(buckets.map((b) => [b.labels.le, b.value]));
    const order = ['0.1', '1', '+Inf'];
    expect(cumulative).toEqual(
      Object.fromEntries(order.map((b) => [b, order.indexOf(b) >= order.indexOf(le) ? 1 : 0])),
    );
  });

  it('does not observe a histogram for lines without a duration, and sums bytes', async () => {
    const registry = new Registry();
    const s = source(registry);
    s.record(req({ bytes: 100 }), 2);
    s.record(req({ duration: 0.5, bytes: 20 }), 2);
    const h = await samples(registry, 'crm_http_request_duration_seconds');
    expect(h.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(1);
    expect(h.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(0.5);
    expect((await samples(registry, 'crm_http_response_size_bytes_total'))[0]?.value).toBe(120);
  });

  it('splits nginx time into upstream and network (no upstream: all network)', async () => {
    const registry = new Registry();
    const s = source(registry, 'web', { upstream: true });
    s.record(req({ duration: 0.3, upstream: 0.2 }), 2);
    s.record(req({ duration: 0.1 }), 2);
    s.record(req({ duration: 0.1, upstream: 0.5 }), 2); // clamped: network never negative
    const phases = Object.fromEntries(
      (await samples(registry, 'crm_http_request_phase_seconds_total')).map((v) => [v.labels.phase, v.value]),
    );
    expect(phases.upstream).toBeCloseTo(0.7, 12);
    expect(phases.network).toBeCloseTo(0.2, 12);
    expect(Object.keys(phases)).toEqual(['upstream', 'network']);
  });

  it('splits application time into db, cache and app only for lines that report them', async () => {
    const registry = new Registry();
    const s = source(registry, 'api', { db: true, cacheTime: true });
    s.record(req({ duration: 0.1, db: 0.03, cacheTime: 0.01 }), 2);
    s.record(req({ duration: 0.1, db: 0.2 }), 3); // db longer than the request: app clamped to 0
    s.record(req({ duration: 0.5 }), 3); // neither: no phase
    const phases = (await samples(registry, 'crm_http_request_phase_seconds_total')).map((v) => [
      v.labels.route,
      v.labels.phase,
      v.value,
    ]);
    expect(phases).toEqual([
      ['/a/:id', 'db', 0.03],
      ['/a/:id', 'cache', 0.01],
      ['/a/:id', 'app', expect.closeTo(0.06, 12)],
      ['/b', 'db', 0.2],
      ['/b', 'app', 0],
    ]);
  });

  it('counts cache and lock outcomes and lock wait per route', async () => {
    const registry = new Registry();
    const s = source(registry, 'api', { cache: true, lock: true, lockWait: true });
    s.record(req({ cacheResult: 0, lockResult: 1, lockWait: 0.25 }), 2);
    s.record(req({ cacheResult: 0, lockResult: 3 }), 2);
    s.record(req({ cacheResult: 3 }), 3);
    expect(
      (await samples(registry, 'crm_cache_lookups_total')).map((v) => [v.labels.route, v.labels.result, v.value]),
    ).toEqual([
      ['/a/:id', 'hit', 2],
      ['/b', 'other', 1],
    ]);
    expect((await samples(registry, 'crm_lock_acquisitions_total')).map((v) => [v.labels.result, v.value])).toEqual([
      ['contended', 1],
      ['other', 1],
    ]);
    expect((await samples(registry, 'crm_lock_wait_seconds_total')).map((v) => v.value)).toEqual([0.25]);
  });

  it('exports health series from 0, and the reasons the parser declares', async () => {
    const registry = new Registry();
    const s = source(registry);
    s.tailer = { bytesRead: 1234, rotations: 2, lagBytes: () => 56, lastReadAt: 1_700_000_000_500 };
    s.lines = 3;
    s.errors[PARSE_ERROR_REASONS.indexOf('binary')] = 1; // undeclared, but it happened: shown
    const v = async (name: string): Promise<unknown[]> =>
      (await samples(registry, name)).map((x) => [x.labels, x.value]);
    expect(await v('crm_log_lines_total')).toEqual([[{ log: 'app' }, 3]]);
    expect(await v('crm_log_parse_errors_total')).toEqual([
      [{ log: 'app', reason: 'empty_line' }, 0],
      [{ log: 'app', reason: 'invalid_json' }, 0],
      [{ log: 'app', reason: 'binary' }, 1],
    ]);
    expect(await v('crm_log_bytes_read_total')).toEqual([[{ log: 'app' }, 1234]]);
    expect(await v('crm_log_rotations_total')).toEqual([[{ log: 'app' }, 2]]);
    expect(await v('crm_log_lag_bytes')).toEqual([[{ log: 'app' }, 56]]);
    expect(await v('crm_log_last_read_timestamp_seconds')).toEqual([[{ log: 'app' }, 1_700_000_000.5]]);
    expect(await v('crm_log_routes_overflow_total')).toEqual([[{ log: 'app' }, 0]]);
  });

  it('keeps several logs apart in one registry and rejects a duplicate name', async () => {
    const registry = new Registry();
    source(registry, 'one').record(req({}), 2);
    source(registry, 'two').record(req({}), 2);
    expect(() => source(registry, 'one')).toThrow(/already registered/);
    expect((await samples(registry, 'crm_http_requests_total')).map((v) => v.labels.log)).toEqual(['one', 'two']);
  });

  it("renders as OpenMetrics (our renderer and prom-client's) and passes promtool", async () => {
    const registry = new Registry();
    const s = source(registry, 'api', { upstream: true, cache: true, lock: true, lockWait: true });
    s.record(req({ duration: 0.2, upstream: 0.1, cacheResult: 1, lockResult: 0, lockWait: 0.01, bytes: 5 }), 2);
    const om = await renderOpenMetrics(registry);
    expect(om).toContain('# TYPE crm_http_requests counter');
    expect(om).toContain('crm_http_requests_total{log="api",method="GET",route="/a/:id",status="200"} 1');
    expect(om).toContain('crm_http_request_duration_seconds_bucket{log="api",method="GET",route="/a/:id",le="1"} 1');
    expect(om.endsWith('# EOF\n')).toBe(true);

    const omRegistry = new Registry();
    (omRegistry as unknown as Registry<OpenMetricsContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    source(omRegistry).record(req({ duration: 0.2 }), 2);
    const text = await omRegistry.metrics();
    expect(text).toContain('crm_http_requests_total{log="app",method="GET",route="/a/:id",status="200"} 1');
    expect(text).not.toContain('_total_total');

    expect(promtoolCheckMetrics(await registry.metrics())).toBe('');
  });

  it('escapes route labels that contain quotes, backslashes or newlines', async () => {
    const registry = new Registry();
    const routes = ['__other__', '__none__', '/a"b\\c\nd'];
    const s = logMetricsFor(registry).addSource({
      name: 'x',
      buckets: [1],
      reasons: [],
      routes,
      routeCapacity: 3,
      has: HAS_NONE,
    });
    s.record(req({}), 2);
    const text = await registry.metrics();
    expect(text).toContain('route="/a\\"b\\\\c\\nd"');
    expect(promtoolCheckMetrics(text)).toBe('');
  });

  it("writes a source's path labels after log, and refuses one that clashes with a family's label when added", async () => {
    const registry = new Registry();
    const options = { buckets: [1], reasons: [], routes: ROUTES, routeCapacity: ROUTES.length, has: HAS_NONE };
    const pod = logMetricsFor(registry).addSource({ ...options, name: 'c', labels: [['pod', 'p"1']] });
    pod.record(req({ duration: 0.5 }), 2);
    const text = await registry.metrics();
    expect(text).toContain('crm_http_requests_total{log="c",pod="p\\"1",method="GET",route="/a/:id",status="200"} 1');
    expect(text).toContain(
      'crm_http_request_duration_seconds_bucket{log="c",pod="p\\"1",method="GET",route="/a/:id",le="1"} 1',
    );
    expect(promtoolCheckMetrics(text)).toBe('');
    expect(() => logMetricsFor(registry).addSource({ ...options, name: 'd', labels: [['route', 'x']] })).toThrow(
      /extra label "route": a label of crm_http_requests_total/,
    );
    expect(() => logMetricsFor(registry).addSource({ ...options, name: 'd', labels: [['le', 'x']] })).toThrow(
      /extra label "le": a label of crm_http_request_duration_seconds/,
    );
  });
});
