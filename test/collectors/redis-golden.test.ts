import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { parseRedisInfo } from '../../src/exporter/parsers/redis-info.js';
import { clearRedisMetrics, writeRedisMetrics, type RedisSnapshot } from '../../src/exporter/collectors/redis.js';
import { createRedisMetrics, REDIS_METRIC_NAMES } from '../../src/exporter/collectors/redis-metrics.js';
import { sampleSum } from '../helpers/exposition.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/redis/${name}`, import.meta.url)), 'utf8');

function snapshot(file: string): RedisSnapshot {
  const parsed = parseRedisInfo(fixture(file));
  if (!parsed.ok) throw new Error(parsed.reason);
  return {
    info: parsed.info,
    slowlogLength: 3,
    keyGroups: [
      { name: 'cache', keys: 300, truncated: false },
      { name: 'locks', keys: 30, truncated: true },
    ],
  };
}

async function exposition(file: string): Promise<string> {
  const registry = new Registry();
  writeRedisMetrics(createRedisMetrics(registry), snapshot(file));
  return registry.metrics();
}

describe('Redis exposition from fixture INFO', () => {
  it('matches the golden file (Redis 7.0 INFO ALL)', async () => {
    await expect(await exposition('info-7.txt')).toMatchFileSnapshot('../golden/redis.prom');
  });

  it.each(['info-7.txt', 'info-6.txt'])('%s passes promtool check metrics with zero findings', async (file) => {
    expect(promtoolCheckMetrics(await exposition(file))).toBe('');
  });

  it('serves every metric name it declares, and only crm_redis_ names', async () => {
    const text = await exposition('info-7.txt');
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
    expect(families.sort()).toEqual(Object.values(REDIS_METRIC_NAMES).sort());
    for (const name of Object.values(REDIS_METRIC_NAMES))
      expect(text, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
  });

  it('converts units: usec to seconds, maxmemory 0 stays 0, latency percentiles become quantiles', async () => {
    const seven = await exposition('info-7.txt');
    expect(sampleSum(seven, 'crm_redis_commands_duration_seconds_total', { cmd: 'get' })).toBeCloseTo(493 / 1e6, 12);
    expect(sampleSum(seven, 'crm_redis_command_latency_seconds', { cmd: 'set', quantile: '0.999' })).toBeCloseTo(
      20.095 / 1e6,
      12,
    );
    expect(seven).toContain('# TYPE crm_redis_command_latency_seconds summary');
    expect(sampleSum(seven, 'crm_redis_memory_max_bytes')).toBe(268435456);
    const six = await exposition('info-6.txt');
    expect(six).toMatch(/^crm_redis_memory_max_bytes 0$/m);
    expect(six).not.toMatch(/^crm_redis_command_latency_seconds\{/m);
    expect(six).toMatch(/^crm_redis_commands_failed_total\{cmd="lpush"\} 50$/m);
    expect(six).toContain('crm_redis_server_info{version="6.2.14",mode="standalone",role="master"} 1');
    expect(sampleSum(six, 'crm_redis_db_keys', { db: '2' })).toBe(12);
  });

  it('a later snapshot leaves no series of an earlier one; clearing keeps only crm_redis_up 0', async () => {
    const registry = new Registry();
    const metrics = createRedisMetrics(registry);
    writeRedisMetrics(metrics, snapshot('info-7.txt'));
    writeRedisMetrics(metrics, snapshot('info-6.txt'));
    const text = await registry.metrics();
    expect(text).not.toContain('cmd="config|get"');
    expect(text).not.toContain('db="1"');
    expect(text).not.toMatch(/^crm_redis_command_latency_seconds\{/m);
    expect(sampleSum(text, 'crm_redis_keyspace_hits_total')).toBe(11203395);

    clearRedisMetrics(metrics);
    const samples = (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples).toEqual(['crm_redis_up 0']);
  });
});
