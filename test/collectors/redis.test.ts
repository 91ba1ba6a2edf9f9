import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { RedisConfig } from '../../src/exporter/config/schema.js';
import { ConfigError } from '../../src/exporter/errors.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { RedisCollector } from '../../src/exporter/collectors/redis/collector.js';
import { parseRedisInfo, type RedisInfo } from '../../src/exporter/parsers/redis-info.js';
import { redisConnectionOptions, RedisSource } from '../../src/exporter/sources/redis-client.js';
import { createApp } from '../../src/exporter/server/app.js';
import { sampleSum } from '../helpers/exposition.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { deleteKeys, newRedisClient, PrivateRedis, randomPrefix, REDIS_URL } from '../helpers/redis-server.js';

function config(overrides: Partial<RedisConfig> = {}): RedisConfig {
  return { url: REDIS_URL, timeout: 2000, key_groups: [], key_group_scan_budget: 10_000, ...overrides };
}

function parse(text: string): RedisInfo {
  const result = parseRedisInfo(text);
  if (!result.ok) throw new Error(result.reason);
  return result.info;
}

const num = (info: RedisInfo, field: string): number => Number(info.fields.get(field));

interface Harness {
  registry: Registry;
  collector: RedisCollector;
  orchestrator: CollectorOrchestrator;
  logs: string[];
  scrape(deadlineMs?: number): Promise<string>;
}

const open: Harness[] = [];

function harness(cfg: RedisConfig, source?: RedisSource): Harness {
  const registry = new Registry();
  const logs: string[] = [];
  const collector = new RedisCollector({ config: cfg, registry, ...(source ? { source } : {}) });
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [collector], log: (m) => logs.push(m) });
  const h: Harness = {
    registry,
    collector,
    orchestrator,
    logs,
    async scrape(deadlineMs = 5000) {
      await orchestrator.run(deadlineMs);
      return registry.metrics();
    },
  };
  open.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.orchestrator.close()));
});

describe('Redis collector against the shared Redis', () => {
  let direct: Redis;
  const prefix = randomPrefix();

  beforeAll(async () => {
    direct = await newRedisClient();
  });

  afterAll(async () => {
    await deleteKeys(direct, prefix);
    direct.disconnect();
  });

  it('agrees with INFO read directly just before and just after the scrape', async () => {
    const h = harness(config());
    await h.scrape(); // connect first so the sandwich below is tight
    const before = parse(await direct.info('all'));
    const slowBefore = Number(await direct.call('SLOWLOG', 'LEN'));
    const text = await h.scrape();
    const after = parse(await direct.info('all'));
    const slowAfter = Number(await direct.call('SLOWLOG', 'LEN'));

    expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(1);
    expect(sampleSum(text, 'crm_redis_up')).toBe(1);
    // static values: exact
    expect(text).toContain(
      `crm_redis_server_info{version="${after.fields.get('redis_version')}",mode="${after.fields.get('redis_mode')}",role="${after.fields.get('role')}"} 1`,
    );
    expect(sampleSum(text, 'crm_redis_memory_max_bytes')).toBe(num(after, 'maxmemory'));
    // counters: never behind what INFO said before, never ahead of what it said after
    const counters: Array<[string, string]> = [
      ['crm_redis_rejected_connections_total', 'rejected_connections'],
      ['crm_redis_keyspace_hits_total', 'keyspace_hits'],
      ['crm_redis_keyspace_misses_total', 'keyspace_misses'],
      ['crm_redis_evicted_keys_total', 'evicted_keys'],
      ['crm_redis_expired_keys_total', 'expired_keys'],
      ['crm_redis_commands_processed_total', 'total_commands_processed'],
      ['crm_redis_net_input_bytes_total', 'total_net_input_bytes'],
      ['crm_redis_net_output_bytes_total', 'total_net_output_bytes'],
      ['crm_redis_uptime_seconds', 'uptime_in_seconds'],
    ];
    for (const [metric, field] of counters) {
      const value = sampleSum(text, metric);
      expect(value, metric).toBeGreaterThanOrEqual(num(before, field));
      expect(value, metric).toBeLessThanOrEqual(num(after, field));
    }
    const slowlog = sampleSum(text, 'crm_redis_slowlog_length');
    expect(slowlog).toBeGreaterThanOrEqual(Math.min(slowBefore, slowAfter));
    expect(slowlog).toBeLessThanOrEqual(Math.max(slowBefore, slowAfter));
    // per-command counters, for every command INFO knew before the scrape
    expect(before.commands.length).toBeGreaterThan(0);
    for (const stat of before.commands) {
      const calls = sampleSum(text, 'crm_redis_commands_total', { cmd: stat.cmd });
      const later = after.commands.find((c) => c.cmd === stat.cmd);
      expect(calls, stat.cmd).toBeGreaterThanOrEqual(stat.calls);
      expect(calls, stat.cmd).toBeLessThanOrEqual(later?.calls ?? Infinity);
      const seconds = sampleSum(text, 'crm_redis_commands_duration_seconds_total', { cmd: stat.cmd });
      expect(seconds * 1e6, stat.cmd).toBeGreaterThanOrEqual(stat.usec - 1e-6);
      expect(seconds * 1e6, stat.cmd).toBeLessThanOrEqual((later?.usec ?? Infinity) + 1e-6);
      if (stat.failedCalls !== undefined) {
        expect(sampleSum(text, 'crm_redis_commands_failed_total', { cmd: stat.cmd }), stat.cmd).toBeGreaterThanOrEqual(
          stat.failedCalls,
        );
      }
    }
    // latency quantiles: the percentiles INFO latencystats lists (Redis 7)
    const latency = after.latency.filter((l) => before.latency.some((b) => b.cmd === l.cmd));
    if (Number(after.fields.get('redis_version')?.split('.')[0]) >= 7)
      expect(latency, 'Redis 7+ lists INFO latencystats').not.toEqual([]);
    for (const entry of latency) {
      for (const p of entry.percentiles) {
        expect(text, `${entry.cmd} ${p.quantile}`).toMatch(
          new RegExp(
            `^crm_redis_command_latency_seconds\\{cmd="${entry.cmd.replace('|', '\\|')}",quantile="${p.quantile}"\\} \\S+$`,
            'm',
          ),
        );
      }
    }
    // gauges that move with every command: close to the direct reading
    expect(sampleSum(text, 'crm_redis_memory_used_bytes')).toBeGreaterThan(num(after, 'used_memory') * 0.5);
    expect(sampleSum(text, 'crm_redis_memory_used_bytes')).toBeLessThan(num(after, 'used_memory') * 1.5);
    expect(sampleSum(text, 'crm_redis_connected_clients')).toBeGreaterThanOrEqual(2); // the collector and `direct`
    expect(sampleSum(text, 'crm_redis_memory_fragmentation_ratio')).toBeGreaterThan(0);
  });

  it('counts exactly the keys written under a test prefix, one series per group', async () => {
    const pipeline = direct.pipeline();
    for (let i = 0; i < 137; i++) pipeline.set(`${prefix}customer:${i}`, 'x', 'EX', 300);
    for (let i = 0; i < 12; i++) pipeline.set(`${prefix}lock:deal:${i}`, 'owner', 'PX', 300_000);
    for (let i = 0; i < 20; i++) pipeline.set(`${prefix}session:${i}`, 'x', 'EX', 300);
    await pipeline.exec();

    const h = harness(
      config({
        key_groups: [
          { name: 'cache', pattern: `${prefix}customer:*` },
          { name: 'locks', pattern: `${prefix}lock:*` },
          { name: 'empty', pattern: `${prefix}nothing:*` },
        ],
        key_group_scan_budget: 10_000_000,
      }),
    );
    const text = await h.scrape();
    expect(sampleSum(text, 'crm_redis_key_group_keys', { group: 'cache' })).toBe(137);
    expect(sampleSum(text, 'crm_redis_key_group_keys', { group: 'locks' })).toBe(12);
    expect(text).toMatch(/^crm_redis_key_group_keys\{group="empty"\} 0$/m);
    for (const group of ['cache', 'locks', 'empty'])
      expect(text).toMatch(new RegExp(`^crm_redis_key_group_scan_truncated\\{group="${group}"\\} 0$`, 'm'));
    await deleteKeys(direct, prefix);
    const again = await h.scrape();
    expect(sampleSum(again, 'crm_redis_key_group_keys', { group: 'cache' })).toBe(0);
  });

  it('stops at the scan budget and says so', async () => {
    const pipeline = direct.pipeline();
    for (let i = 0; i < 600; i++) pipeline.set(`${prefix}customer:${i}`, 'x', 'EX', 300);
    await pipeline.exec();
    const groups = [
      { name: 'cache', pattern: `${prefix}customer:*` },
      { name: 'locks', pattern: `${prefix}lock:*` },
    ];
    const small = harness(config({ key_groups: groups, key_group_scan_budget: 100 }));
    const text = await small.scrape();
    expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(1);
    expect(sampleSum(text, 'crm_redis_key_group_scan_truncated', { group: 'cache' })).toBe(1);
    expect(sampleSum(text, 'crm_redis_key_group_scan_truncated', { group: 'locks' })).toBe(1);
    expect(sampleSum(text, 'crm_redis_key_group_keys', { group: 'cache' })).toBeLessThan(600);

    const large = harness(config({ key_groups: groups, key_group_scan_budget: 10_000_000 }));
    const full = await large.scrape();
    expect(sampleSum(full, 'crm_redis_key_group_keys', { group: 'cache' })).toBe(600);
    expect(sampleSum(full, 'crm_redis_key_group_scan_truncated', { group: 'cache' })).toBe(0);
    await deleteKeys(direct, prefix);
  });

  it('serves /metrics that passes promtool check metrics with zero findings', async () => {
    await direct.set(`${prefix}customer:1`, 'x', 'EX', 60);
    const h = harness(config({ key_groups: [{ name: 'cache', pattern: `${prefix}customer:*` }] }));
    const app = createApp({
      registry: h.registry,
      orchestrator: h.orchestrator,
      scrape: { default_timeout: 5000, max_timeout: 10_000, margin: 500 },
      version: 'test',
    });
    const server: Server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const body = await (await fetch(`${base}/metrics`)).text();
      expect(sampleSum(body, 'crm_redis_up')).toBe(1);
      expect(body).toMatch(/^crm_redis_command_latency_seconds\{cmd="info",quantile="0\.99"\} /m);
      expect(promtoolCheckMetrics(body)).toBe('');
      // OpenMetrics on request: the latency family stays a summary, counters become families without _total
      const om = await (
        await fetch(`${base}/metrics`, { headers: { Accept: 'application/openmetrics-text;version=1.0.0' } })
      ).text();
      expect(om).toContain('# TYPE crm_redis_command_latency_seconds summary');
      expect(om).toContain('# TYPE crm_redis_commands counter');
      expect(om).toMatch(/^crm_redis_commands_total\{cmd="info"\} \d+$/m);
      expect(om.endsWith('# EOF\n')).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await direct.del(`${prefix}customer:1`);
    }
  });
});

describe('Redis collector against a private redis-server', () => {
  let server: PrivateRedis;
  let direct: Redis;

  beforeAll(async () => {
    server = await PrivateRedis.start([
      '--maxmemory',
      '67108864',
      '--maxmemory-policy',
      'allkeys-lru',
      '--slowlog-log-slower-than',
      '0',
    ]);
    direct = await newRedisClient(server.url);
  });

  afterAll(async () => {
    direct?.disconnect();
    await server?.stop();
  });

  it('reports maxmemory, keyspace per db and the slow log exactly', async () => {
    await direct.set('a', '1');
    await direct.set('b', '1', 'EX', 600);
    await direct.select(3);
    await direct.set('c', '1', 'EX', 600);
    await direct.select(0);
    const h = harness(config({ url: server.url }));
    const slowBefore = Number(await direct.call('SLOWLOG', 'LEN'));
    const text = await h.scrape();
    const slowAfter = Number(await direct.call('SLOWLOG', 'LEN'));
    expect(sampleSum(text, 'crm_redis_memory_max_bytes')).toBe(67108864);
    expect(sampleSum(text, 'crm_redis_db_keys', { db: '0' })).toBe(2);
    expect(sampleSum(text, 'crm_redis_db_keys_expiring', { db: '0' })).toBe(1);
    expect(sampleSum(text, 'crm_redis_db_keys', { db: '3' })).toBe(1);
    expect(text).not.toContain('db="1"');
    expect(sampleSum(text, 'crm_redis_slowlog_length')).toBeGreaterThanOrEqual(slowBefore);
    expect(sampleSum(text, 'crm_redis_slowlog_length')).toBeLessThanOrEqual(slowAfter);
    expect(sampleSum(text, 'crm_redis_slowlog_length')).toBeGreaterThan(0);
    await direct.flushall(); // the private server only
  });

  it('needs one round trip when the keyspace fits a SCAN page, more rounds for more keys', async () => {
    const source = new RedisSource({ url: server.url, timeoutMs: 2000 });
    const calls: number[] = [];
    const original = source.pipeline.bind(source);
    source.pipeline = async (commands, signal) => {
      calls.push(commands.length);
      return original(commands, signal);
    };
    const groups = [
      { name: 'cache', pattern: 'customer:*' },
      { name: 'locks', pattern: 'lock:*' },
    ];
    const h = harness(config({ url: server.url, key_groups: groups }), source);
    for (let i = 0; i < 10; i++) await direct.set(`customer:${i}`, 'x');
    let text = await h.scrape();
    expect(calls).toEqual([4]); // INFO ALL + SLOWLOG LEN + one SCAN per group, one pipeline
    expect(sampleSum(text, 'crm_redis_key_group_keys', { group: 'cache' })).toBe(10);

    const pipeline = direct.pipeline();
    for (let i = 0; i < 2500; i++) pipeline.set(`lock:${i}`, 'x');
    await pipeline.exec();
    calls.length = 0;
    text = await h.scrape();
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(sampleSum(text, 'crm_redis_key_group_keys', { group: 'locks' })).toBe(2500);
    expect(sampleSum(text, 'crm_redis_key_group_keys', { group: 'cache' })).toBe(10);
    await direct.flushall();
  });

  it('stops scanning when the scrape is aborted and writes nothing', async () => {
    const pipeline = direct.pipeline();
    for (let i = 0; i < 5000; i++) pipeline.set(`customer:${i}`, 'x');
    await pipeline.exec();
    const source = new RedisSource({ url: server.url, timeoutMs: 2000 });
    const controller = new AbortController();
    let calls = 0;
    const original = source.pipeline.bind(source);
    source.pipeline = async (commands, signal) => {
      calls++;
      const replies = await original(commands, signal);
      controller.abort(new Error('deadline'));
      return replies;
    };
    const h = harness(
      config({
        url: server.url,
        key_groups: [{ name: 'cache', pattern: 'customer:*' }],
        key_group_scan_budget: 1_000_000,
      }),
      source,
    );
    await expect(h.collector.update(controller.signal)).rejects.toThrow('deadline');
    expect(calls).toBe(1);
    const text = await h.registry.metrics();
    expect(text).toMatch(/^crm_redis_up 0$/m);
    expect(text).not.toMatch(/^crm_redis_key_group_keys\{/m);
    await direct.flushall();
  });
});

describe('Redis connection settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-redis-pw-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      'redis://127.0.0.1:6380/2',
      undefined,
      { host: '127.0.0.1', port: 6380, db: 2, tls: undefined, password: undefined },
    ],
    ['rediss://cache.example.com', undefined, { host: 'cache.example.com', port: 6379, db: 0, tls: {} }],
    ['redis://app:s3cr%40t@10.0.0.5:6379/0', undefined, { username: 'app', password: 's3cr@t' }],
    ['redis://app:from-url@10.0.0.5:6379', 'from-file', { username: 'app', password: 'from-file' }],
    ['127.0.0.1:6390', undefined, { host: '127.0.0.1', port: 6390 }],
    ['redis://[::1]:6379', undefined, { host: '::1' }],
  ])('%s (password file: %s)', (url, password, expected) => {
    const options = redisConnectionOptions(url, password, 1500);
    expect(options).toMatchObject(expected);
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      lazyConnect: true,
      connectTimeout: 1500,
      commandTimeout: 1500,
    });
  });

  it.each([['http://127.0.0.1:6379'], ['redis://127.0.0.1:6379/cache'], ['redis://exa mple']])(
    'rejects %s with a ConfigError',
    (url) => {
      expect(() => redisConnectionOptions(url, undefined, 1000)).toThrow(ConfigError);
    },
  );

  it('reads the password from password_file, and a wrong one is up 0 without the password in any log', async () => {
    const server = await PrivateRedis.start(['--requirepass', 'pw-from-file']);
    try {
      const good = join(dir, 'good');
      writeFileSync(good, 'pw-from-file\n');
      const ok = harness(config({ url: `redis://:wrong-in-url@127.0.0.1:${server.port}`, password_file: good }));
      expect(sampleSum(await ok.scrape(), 'crm_redis_up')).toBe(1);

      const bad = join(dir, 'bad');
      writeFileSync(bad, 'not-the-password\n');
      const denied = harness(config({ url: `redis://127.0.0.1:${server.port}`, password_file: bad }));
      const text = await denied.scrape();
      expect(sampleSum(text, 'crm_redis_up')).toBe(0);
      expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(0);
      expect(denied.logs.join('\n')).not.toContain('not-the-password');
      expect(denied.logs.join('\n')).toMatch(/WRONGPASS|invalid|NOAUTH/i);
    } finally {
      await server.stop();
    }
  });

  it('a missing password_file stops start-up with a ConfigError naming the key', () => {
    expect(
      () => new RedisCollector({ config: config({ password_file: join(dir, 'missing') }), registry: new Registry() }),
    ).toThrow(/redis\.password_file/);
  });
});
