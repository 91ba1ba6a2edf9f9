import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { createLogSource } from '../../src/exporter/logs/glob-pipeline.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/*
 * Golden expositions of the container-log inputs (issue 13 item 3), as test/logs/golden.test.ts does for the
 * plain formats: `cri`, a glob over two kubelet pod directories (a third one, an exporter's container, is not matched)
 * with the CRI wrapper and namespace/pod path labels; `docker`, one Docker json-file log (plain path) with its
 * stdout only. The fixtures hold split records, a stderr line, malformed wrapper lines and an empty message.
 * Regenerate on purpose with `npm run test:update-golden`.
 */
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/logs/${name}`, import.meta.url));

const SOURCES: Record<string, Record<string, unknown>> = {
  cri: {
    name: 'pods',
    path: fixture('pods/*_crm-*/crm/*.log'),
    format: 'json',
    container_format: 'cri',
    path_labels: '/pods/(?<namespace>[^_]+)_(?<pod>[^_]+)_',
  },
  docker: {
    name: 'docker',
    path: fixture('containers/abc/abc-json.log'),
    format: 'json',
    container_format: 'docker',
    container_stream: 'stdout',
  },
};
const FILES: Record<string, string[]> = {
  cri: ['pods/crm_crm-a_uid1/crm/0.log', 'pods/crm_crm-b_uid2/crm/0.log'],
  docker: ['containers/abc/abc-json.log'],
};

async function exposition(kind: string): Promise<{ text: string; lines: number }> {
  const source = configSchema.parse({ logs: [{ start_at: 'beginning', ...SOURCES[kind] }] }).logs[0] as LogSourceConfig;
  const registry = new Registry();
  const pipeline = createLogSource(source, registry, { watch: false });
  await pipeline.start();
  await pipeline.caughtUp();
  const text = await registry.metrics();
  const { lines } = pipeline.status();
  await pipeline.close();
  return { text, lines };
}

const normalise = (text: string): string =>
  text.replace(/^(crm_log_last_read_timestamp_seconds\{[^}]*\}) \S+$/gm, '$1 <timestamp>');

const sum = (text: string, name: string): number =>
  [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);

// Each golden file named in full, so that test/golden-files.test.ts finds which test reads it.
describe.each([
  ['cri', '../golden/cri.prom'],
  ['docker', '../golden/docker.prom'],
])('%s container log', (kind, goldenFile) => {
  it('matches the golden exposition and passes promtool check metrics', async () => {
    const { text } = await exposition(kind);
    await expect(normalise(text)).toMatchFileSnapshot(goldenFile);
    expect(promtoolCheckMetrics(text)).toBe('');
  });

  it('counts every unwrapped line once: requests + parse errors = lines; every byte read', async () => {
    const { text, lines } = await exposition(kind);
    expect(sum(text, 'crm_log_lines_total')).toBe(lines);
    expect(sum(text, 'crm_http_requests_total') + sum(text, 'crm_log_parse_errors_total')).toBe(lines);
    const bytes = FILES[kind]?.reduce((s, f) => s + statSync(fixture(f)).size, 0);
    expect(sum(text, 'crm_log_bytes_read_total')).toBe(bytes);
  });
});
