import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { defineFamily, registerFamily } from '../../src/exporter/exposition/family.js';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { LineProcessor } from '../../src/exporter/logs/pipeline.js';
import { renderOpenMetrics } from '../../src/exporter/server/openmetrics.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/** Every kind of family the exporter serves, and label values that need escaping. */
function busyRegistry(): Registry {
  const registry = new Registry();
  const counter = new Counter({
    name: 'demo_events_total',
    help: 'Help with a \\ backslash\nand a newline.',
    labelNames: ['kind'],
    registers: [registry],
  });
  counter.inc({ kind: 'quote " backslash \\ newline \n end' }, 3);
  counter.inc({ kind: 'plain' });
  new Gauge({
    name: 'demo_ratio',
    help: 'A gauge.',
    registers: [registry],
    collect() {
      this.set(0.25);
    },
  });
  const h = new Histogram({
    name: 'demo_seconds',
    help: 'A histogram.',
    labelNames: ['op'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  h.observe({ op: 'read' }, 0.05);
  h.observe({ op: 'read' }, 3);
  new Summary({ name: 'demo_size', help: 'A summary.', percentiles: [0.5], registers: [registry] }).observe(7);
  // a scrape-time family (exposition/family.ts) of quantiles alone, as the Redis latency family is
  registerFamily(
    registry,
    defineFamily({ name: 'demo_latency_seconds', help: 'Quantiles.', type: 'summary', labelNames: ['quantile'] }),
    (emit) => emit(0.2, ['0.99']),
  );

  const source = configSchema.parse({
    logs: [{ name: 'api', path: '/dev/null', format: 'json', max_route_length: 24 }],
  }).logs[0] as LogSourceConfig;
  const p = new LineProcessor(source, registry);
  const lines = [
    {
      method: 'GET',
      path: '/api/customers/1',
      route: '/api/customers/:id',
      status: 200,
      duration_ms: 5,
      bytes: 10,
      db_ms: 1,
      cache_ms: 0.5,
      cache: 'hit',
    },
    {
      method: 'POST',
      path: '/x',
      route: '/we"ird\\route',
      status: 500,
      duration_ms: 700,
      lock: 'contended',
      lock_wait_ms: 3,
    },
    { method: 'PUT', path: `/long/${'g'.repeat(300)}`, status: 404, duration_ms: 1 },
  ];
  for (const l of lines) {
    const b = Buffer.from(JSON.stringify(l));
    p.line(b, 0, b.length);
  }
  p.oversized();
  return registry;
}

/** What renderOpenMetrics wrote before the access-log families wrote their own lines: every family from its JSON. */
async function referenceOpenMetrics(registry: Registry): Promise<string> {
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  const out: string[] = [];
  for (const family of await registry.getMetricsAsJSON()) {
    const type = String(family.type);
    const familyName = type === 'counter' ? family.name.replace(/_total$/, '') : family.name;
    out.push(`# TYPE ${familyName} ${type}`, `# HELP ${familyName} ${esc(family.help)}`);
    for (const sample of family.values) {
      const name =
        (sample as { metricName?: string }).metricName ?? (type === 'counter' ? `${familyName}_total` : family.name);
      const labels = Object.entries(sample.labels)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}="${esc(String(v))}"`);
      const value = Number.isNaN(sample.value)
        ? 'NaN'
        : sample.value === Infinity
          ? '+Inf'
          : sample.value === -Infinity
            ? '-Inf'
            : String(sample.value);
      out.push(`${name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${value}`);
    }
  }
  return `${out.join('\n')}\n# EOF\n`;
}

describe('Prometheus text and OpenMetrics rendering', () => {
  it('Prometheus text is byte for byte what prom-client renders', async () => {
    const registry = busyRegistry();
    const text = await renderPrometheusText(registry);
    expect(text).toBe(await registry.metrics());
    expect(text).toContain('route="/we\\"ird\\\\route"');
    expect(text).toContain('route="/long/*"');
    expect(text).toContain('crm_log_routes_truncated_total{log="api"} 1');
  });

  it('OpenMetrics is what rendering every family from its JSON gives', async () => {
    const registry = busyRegistry();
    expect(await renderOpenMetrics(registry)).toBe(await referenceOpenMetrics(registry));
  });

  it('an empty registry renders as prom-client does', async () => {
    const registry = new Registry();
    expect(await renderPrometheusText(registry)).toBe(await registry.metrics());
  });

  it('passes promtool check metrics', async () => {
    const registry = busyRegistry();
    registry.removeSingleMetric('demo_events_total'); // promtool wants no HELP escapes in tests' own families
    expect(promtoolCheckMetrics(await renderPrometheusText(registry))).toBe('');
  });
});
