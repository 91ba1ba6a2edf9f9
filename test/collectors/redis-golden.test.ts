import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { parseRedisInfo } from '../../src/exporter/parsers/redis-info.js';
import { registerRedisFamilies, type RedisSnapshot } from '../../src/exporter/collectors/redis/collector.js';
import { renderOpenMetrics } from '../../src/exporter/server/openmetrics.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';
import { sampleSum } from '../helpers/exposition.js';
import { documentedIn, familiesOf } from '../helpers/metrics-doc.js';
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

function serving(served: () => RedisSnapshot | undefined): Registry {
  const registry = new Registry();
  registerRedisFamilies(registry, served);
  return registry;
}

async function exposition(file: string): Promise<string> {
  const s = snapshot(file);
  return renderPrometheusText(serving(() => s));
}

describe('Redis exposition from fixture INFO', () => {
  it('matches the golden file (Redis 7.0 INFO ALL)', async () => {
    await expect(await exposition('info-7.txt')).toMatchFileSnapshot('../golden/redis.prom');
  });

  it.each(['info-7.txt', 'info-6.txt'])('%s passes promtool check metrics with zero findings', async (file) => {
    expect(promtoolCheckMetrics(await exposition(file))).toBe('');
  });

  it('serves exactly the metrics of the Redis section of docs/metrics.md, each with a sample (Redis 7.0)', async () => {
    const text = await exposition('info-7.txt');
    expect(familiesOf(text)).toEqual(documentedIn('Redis'));
    for (const name of familiesOf(text)) expect(text, name).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
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

  it('serves the last snapshot only: series of an earlier one are gone, and without one only crm_redis_up 0', async () => {
    let served: RedisSnapshot | undefined = snapshot('info-7.txt');
    const registry = serving(() => served);
    expect(await renderPrometheusText(registry)).toContain('cmd="config|get"');
    served = snapshot('info-6.txt');
    const text = await renderPrometheusText(registry);
    expect(text).not.toContain('cmd="config|get"');
    expect(text).not.toContain('db="1"');
    expect(text).not.toMatch(/^crm_redis_command_latency_seconds\{/m);
    expect(sampleSum(text, 'crm_redis_keyspace_hits_total')).toBe(11203395);

    served = undefined; // what the orchestrator sets after a failed or timed-out update
    const samples = (await renderPrometheusText(registry)).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples).toEqual(['crm_redis_up 0']);
  });

  it('renders the same through prom-client, and OpenMetrics names the latency family a summary', async () => {
    const s = snapshot('info-7.txt');
    const registry = serving(() => s);
    expect(await registry.metrics()).toBe(await renderPrometheusText(registry));
    const om = await renderOpenMetrics(registry);
    expect(om).toContain('# TYPE crm_redis_command_latency_seconds summary\n');
    expect(om).toMatch(
      /^# TYPE crm_redis_commands counter\n# HELP crm_redis_commands .*\ncrm_redis_commands_total\{cmd=/m,
    );
  });

  it('merges what INFO repeats (cmdstat_GET and cmdstat_get): counters summed, one series each', async () => {
    const parsed = parseRedisInfo(
      '# Commandstats\r\ncmdstat_get:calls=2,usec=4\r\ncmdstat_GET:calls=3,usec=6\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\ndb0:keys=5,expires=1\r\n',
    );
    if (!parsed.ok) throw new Error(parsed.reason);
    const text = await renderPrometheusText(serving(() => ({ info: parsed.info, slowlogLength: 0, keyGroups: [] })));
    expect(text).toContain('crm_redis_commands_total{cmd="get"} 5\n');
    expect(text.match(/^crm_redis_commands_total/gm)).toHaveLength(1);
    expect(text).toContain('crm_redis_db_keys{db="0"} 5\n'); // a gauge: the last value, as set() did
    expect(text.match(/^crm_redis_db_keys\{/gm)).toHaveLength(1);
  });
});
