import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/exporter/config/load.js';
import { CONFIG_CHECKS } from '../../src/exporter/config-checks.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { sampleSum } from '../helpers/exposition.js';

/*
 * The whole exporter as deployed: every log format and every collector against the real PostgreSQL and Redis,
 * checked by promtool. (PostgreSQL is limited to the `postgres` database so the exporter never holds connections
 * to databases other tests create and drop.)
 */
let dir: string;
let exporter: RunningExporter;
let health: Server;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-full-'));
  health = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  await new Promise((resolve) => health.once('listening', resolve));
  const json = join(dir, 'json.log');
  const nginx = join(dir, 'nginx.log');
  const regex = join(dir, 'regex.log');
  await writeFile(
    json,
    '{"method":"GET","path":"/api/customers/7","status":200,"duration_ms":3.5,"bytes":10,"db_ms":1,"cache_ms":0.2,"cache":"hit","lock":"acquired","lock_wait_ms":0.5}\nnot json\n',
  );
  await writeFile(
    nginx,
    '127.0.0.1 - - [27/Nov/2026:08:00:00 +0000] "GET /api/customers/12?x=1 HTTP/1.1" 200 512 "-" "curl/8" 0.012 0.010\n',
  );
  await writeFile(regex, 'GET /api/rankings 200 4.5ms\n');
  const config = parseConfig(
    {
      listen: '127.0.0.1:0',
      positions_file: join(dir, 'positions.json'),
      logs: [
        { name: 'json', path: json, format: 'json', start_at: 'beginning' },
        {
          name: 'nginx',
          path: nginx,
          format: 'nginx',
          start_at: 'beginning',
          log_format:
            '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time',
        },
        {
          name: 'regex',
          path: regex,
          format: 'regex',
          start_at: 'beginning',
          pattern: '^(?<method>\\S+) (?<path>\\S+) (?<status>\\d{3}) (?<duration_ms>[\\d.]+)ms$',
        },
      ],
      postgres: { url: 'postgres://postgres@127.0.0.1:5432/postgres', databases: ['postgres'] },
      redis: { url: 'redis://127.0.0.1:6379', key_groups: [{ name: 'cache', pattern: 'crm-full-test-nothing:*' }] },
      probe: { url: `http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz` },
    },
    {},
    CONFIG_CHECKS,
  );
  exporter = await startExporter(config, { log: () => undefined });
});

afterAll(async () => {
  await exporter?.close();
  health?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('full exposition', () => {
  it('serves every subsystem and passes promtool check metrics with zero findings', async () => {
    await expect
      .poll(async () => sampleSum(await (await fetch(`${exporter.url}/metrics`)).text(), 'crm_log_lines_total'), {
        timeout: 15_000,
      })
      .toBe(4);
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleSum(text, 'crm_pg_up')).toBe(1);
    expect(sampleSum(text, 'crm_redis_up')).toBe(1);
    expect(sampleSum(text, 'crm_probe_success')).toBe(1);
    expect(sampleSum(text, 'crm_http_requests_total')).toBe(3);
    expect(sampleSum(text, 'crm_log_parse_errors_total')).toBe(1);
    for (const collector of ['postgres', 'redis', 'probe']) {
      expect(sampleSum(text, 'crm_scrape_collector_success', { collector })).toBe(1);
    }
    expect(promtoolCheckMetrics(text)).toBe('');
  });
});
