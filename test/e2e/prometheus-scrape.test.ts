import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';

/*
 * A real Prometheus (Debian's package) scrapes the exporter. Prometheus 2.x asks for OpenMetrics first, so this
 * proves our OpenMetrics rendering parses, and that the numbers arrive intact.
 */
let dir: string;
let exporter: RunningExporter;
let prometheus: RunningPrometheus;

const LINES = 300;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-e2e-'));
  const log = join(dir, 'access.log');
  const lines: string[] = [];
  for (let i = 0; i < LINES; i += 1) {
    const status = i % 10 === 0 ? 500 : 200;
    lines.push(
      JSON.stringify({
        method: i % 3 === 0 ? 'POST' : 'GET',
        path: `/api/customers/${i}`,
        status,
        duration_ms: (i % 50) + 0.5,
        bytes: 200,
        db_ms: 1,
        cache: 'hit',
      }),
    );
  }
  await writeFile(log, `${lines.join('\n')}\n`);
  const config = parseConfig({
    listen: '127.0.0.1:0',
    positions_file: join(dir, 'positions.json'),
    logs: [{ name: 'crm', path: log, format: 'json', start_at: 'beginning', routes: ['/api/customers/:id'] }],
  });
  exporter = await startExporter(config, { log: () => undefined });
  prometheus = await startPrometheus([{ job: 'crm', target: exporter.url.replace('http://', '') }]);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Prometheus scraping the exporter', () => {
  it('ingests every series with the right totals', async () => {
    await expect
      .poll(async () => (await prometheus.query('sum(crm_http_requests_total{job="crm"})'))[0]?.value[1], {
        timeout: 30_000,
        interval: 500,
      })
      .toBe(String(LINES));
    const errors = await prometheus.query('sum by (status) (crm_http_requests_total{job="crm",status="500"})');
    expect(errors[0]?.value[1]).toBe(String(LINES / 10));
    const up = await prometheus.query('up{job="crm"}');
    expect(up[0]?.value[1]).toBe('1');
    const count = await prometheus.query(
      'sum(crm_http_request_duration_seconds_count{job="crm",route="/api/customers/:id"})',
    );
    expect(count[0]?.value[1]).toBe(String(LINES));
    const build = await prometheus.query('crm_exporter_build_info{job="crm"}');
    expect(build).toHaveLength(1);
  });
});
