import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerRedisFamilies, type RedisSnapshot } from '../../../src/exporter/collectors/redis/collector.js';
import { mapSlowlogReply } from '../../../src/exporter/collectors/redis/slowlog.js';
import { parseRedisInfo } from '../../../src/exporter/parsers/redis-info.js';
import { renderPrometheusText } from '../../../src/exporter/server/text-format.js';

/* Each Redis view from a snapshot, without a server: missing, negative and odd values. */

function render(info: string, rest: Partial<RedisSnapshot> = {}): Promise<string> {
  const parsed = parseRedisInfo(info);
  if (!parsed.ok) throw new Error(parsed.reason);
  const snapshot: RedisSnapshot = { info: parsed.info, slowlogLength: undefined, keyGroups: [], ...rest };
  const registry = new Registry();
  registerRedisFamilies(registry, () => snapshot);
  return renderPrometheusText(registry);
}

const samples = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('Redis views', () => {
  it('INFO fields: a field INFO lacks has no sample, a negative counter neither, a negative gauge is served', async () => {
    const text = await render('# Stats\r\nkeyspace_hits:-5\r\nconnected_clients:-1\r\nevicted_keys:abc\r\n');
    expect(samples(text)).toEqual([
      'crm_redis_up 1',
      'crm_redis_server_info{version="unknown",mode="unknown",role="unknown"} 1',
      'crm_redis_connected_clients -1',
    ]);
  });

  it('SLOWLOG LEN: an integer reply, a numeric string, or nothing', async () => {
    expect(mapSlowlogReply(4)).toBe(4);
    expect(mapSlowlogReply('12')).toBe(12);
    expect(mapSlowlogReply('OK')).toBeUndefined();
    expect(mapSlowlogReply(null)).toBeUndefined();
    expect(await render('uptime_in_seconds:1\r\n', { slowlogLength: 0 })).toContain('\ncrm_redis_slowlog_length 0\n');
    expect(await render('uptime_in_seconds:1\r\n')).not.toMatch(/^crm_redis_slowlog_length /m);
  });

  it('commandstats without failed_calls (before Redis 6.2) has no failed series; usec becomes seconds', async () => {
    const text = await render('# Commandstats\r\ncmdstat_get:calls=4,usec=1500000\r\n');
    expect(text).toContain('crm_redis_commands_total{cmd="get"} 4\n');
    expect(text).toContain('crm_redis_commands_duration_seconds_total{cmd="get"} 1.5\n');
    expect(text).not.toMatch(/^crm_redis_commands_failed_total\{/m);
  });

  it('key groups: keys and truncation per group, a repeated group name served once', async () => {
    const text = await render('uptime_in_seconds:1\r\n', {
      keyGroups: [
        { name: 'cache', keys: 3, truncated: true },
        { name: 'cache', keys: 4, truncated: false },
      ],
    });
    expect(text).toContain('crm_redis_key_group_keys{group="cache"} 4\n');
    expect(text).toContain('crm_redis_key_group_scan_truncated{group="cache"} 0\n');
    expect(text.match(/^crm_redis_key_group_keys\{/gm)).toHaveLength(1);
  });
});
