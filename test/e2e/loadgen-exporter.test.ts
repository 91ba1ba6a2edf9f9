import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { startCrmService, type CrmService } from '../../src/crm/service.js';
import { silentLogger } from '../../src/crm/log.js';
import { runLoad, type LoadSummary } from '../../src/loadgen/runner.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { deleteKeys, newRedisClient, randomPrefix, REDIS_URL } from '../helpers/redis-server.js';
import { sampleSum } from '../helpers/exposition.js';

/*
 * The whole chain on real servers: load generator -> reference CRM (PostgreSQL, Redis) -> JSON access log ->
 * exporter. The exporter must count exactly the responses the load generator received, status by status.
 */
let dir: string;
let db: TestDatabase;
let redis: Redis;
let prefix: string;
let crm: CrmService | undefined;
let exporter: RunningExporter | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-chain-'));
  db = await createTestDatabase();
  redis = await newRedisClient();
  prefix = randomPrefix();
});

afterAll(async () => {
  await exporter?.close();
  await crm?.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('load generator → CRM → access log → exporter', () => {
  it('counts exactly the requests the load generator sent, by status', async () => {
    const accessLog = join(dir, 'access.log');
    const adminToken = 'chain-test-token';
    crm = await startCrmService({
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      port: 0,
      accessLog,
      redisPrefix: prefix,
      adminToken,
      log: silentLogger,
    });
    const config = parseConfig({
      listen: '127.0.0.1:0',
      positions_file: join(dir, 'positions.json'),
      logs: [{ name: 'crm', path: accessLog, format: 'json', start_at: 'beginning', poll_interval: '200ms' }],
    });
    exporter = await startExporter(config, { log: () => undefined });

    // error-burst injects 500s through the admin endpoint, so more than one status class must add up.
    const summary: LoadSummary = await runLoad({
      url: crm.url,
      durationMs: 4_000,
      rate: 60,
      scenario: 'error-burst',
      adminToken,
      requestTimeoutMs: 10_000,
    });
    expect(summary.networkErrors).toBe(0);
    expect(Object.keys(summary.byStatus).length).toBeGreaterThan(1);
    await crm.close(); // flushes the access log
    crm = undefined;

    const expected = Object.fromEntries(Object.entries(summary.byStatus).map(([status, n]) => [status, n]));
    const total = Object.values(summary.byStatus).reduce((a, b) => a + b, 0);
    const url = exporter.url;
    await expect
      .poll(async () => sampleSum(await (await fetch(`${url}/metrics`)).text(), 'crm_http_requests_total'), {
        timeout: 20_000,
      })
      .toBe(total);
    const text = await (await fetch(`${url}/metrics`)).text();
    const counted = Object.fromEntries(
      Object.keys(expected).map((status) => [status, sampleSum(text, 'crm_http_requests_total', { status })]),
    );
    expect(counted).toEqual(expected);
    expect(sampleSum(text, 'crm_log_parse_errors_total')).toBe(0);
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(total);
  });
});
