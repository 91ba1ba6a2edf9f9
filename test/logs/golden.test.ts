import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { statSync } from 'node:fs';
import { Registry } from 'prom-client';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { createLogPipeline } from '../../src/exporter/logs/pipeline.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/*
 * Golden exposition per log format: a fixture log with normal lines and every kind of bad input, read by the real
 * pipeline (FileTailer from the beginning) into a fresh registry. The only run-dependent value, the last-read
 * timestamp, is replaced by a placeholder. Regenerate on purpose with `npm run test:update-golden`.
 */
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/logs/${name}`, import.meta.url));

const GOLDEN_SOURCES: Record<string, Record<string, unknown>> = {
  nginx: {
    name: 'nginx_access',
    path: fixture('nginx.log'),
    format: 'nginx',
    log_format: `log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                    '$request_time $upstream_response_time $upstream_cache_status';`,
    routes: ['/static/*'],
    max_routes: 9,
  },
  json: { name: 'crm_api', path: fixture('json.log'), format: 'json' },
  regex: {
    name: 'legacy_app',
    path: fixture('regex.log'),
    format: 'regex',
    pattern:
      '^(?<method>[A-Z]+) (?<path>\\S+) (?<status>\\S+) (?<duration_ms>\\S+)ms bytes=(?<bytes>\\S+)(?: cache=(?<cache>\\w+))?(?: db=(?<db_ms>\\S+)ms)?$',
    buckets: [0.001, 0.01, 0.1, 1],
  },
};

function source(format: string): LogSourceConfig {
  const logs = configSchema.parse({
    logs: [{ start_at: 'beginning', max_line_bytes: 256, ...GOLDEN_SOURCES[format] }],
  }).logs;
  return logs[0] as LogSourceConfig;
}

async function logExposition(format: string): Promise<{ text: string; lines: number; errors: number }> {
  const registry = new Registry();
  const pipeline = createLogPipeline(source(format), registry, { watch: false });
  await pipeline.start();
  await pipeline.caughtUp();
  const text = await registry.metrics();
  const { lines, errors } = pipeline.status();
  await pipeline.close();
  return { text, lines, errors };
}

const normalise = (text: string): string =>
  text.replace(/^(crm_log_last_read_timestamp_seconds\{[^}]*\}) \S+$/gm, '$1 <timestamp>');

// Each golden file named in full, so that test/golden-files.test.ts finds which test reads it.
describe.each([
  ['nginx', '../golden/nginx.prom'],
  ['json', '../golden/json.prom'],
  ['regex', '../golden/regex.prom'],
])('%s access log', (format, goldenFile) => {
  it('matches the golden exposition', async () => {
    const { text } = await logExposition(format);
    await expect(normalise(text)).toMatchFileSnapshot(goldenFile);
  });

  it('passes promtool check metrics with zero findings', async () => {
    const { text } = await logExposition(format);
    expect(promtoolCheckMetrics(text)).toBe('');
  });

  it('counts every line once: requests + parse errors = lines read', async () => {
    const { text, lines } = await logExposition(format);
    const sum = (name: string): number =>
      [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
    expect(sum('crm_log_lines_total')).toBe(lines);
    expect(sum('crm_http_requests_total') + sum('crm_log_parse_errors_total')).toBe(lines);
    expect(sum('crm_log_bytes_read_total')).toBe(statSync(fixture(`${format}.log`)).size);
    expect(sum('crm_log_lag_bytes')).toBe(0);
  });
});
