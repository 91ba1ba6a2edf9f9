import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { infoNumber, parseInfoNumber, parseRedisInfo, type RedisInfo } from '../../src/exporter/parsers/redis-info.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/redis/${name}`, import.meta.url)), 'utf8');

function parse(text: string): RedisInfo {
  const result = parseRedisInfo(text);
  if (!result.ok) throw new Error(`parse failed: ${result.reason}`);
  return result.info;
}

describe('parseRedisInfo on real INFO ALL outputs', () => {
  it('reads a Redis 7.0 INFO ALL (captured from redis-server 7.0.15)', () => {
    const info = parse(fixture('info-7.txt'));
    expect(info.ignoredLines).toBe(0);
    expect([...info.sections.keys()]).toEqual([
      'server',
      'clients',
      'memory',
      'persistence',
      'stats',
      'replication',
      'cpu',
      'modules',
      'commandstats',
      'errorstats',
      'latencystats',
      'cluster',
      'keyspace',
    ]);
    expect(info.fields.get('redis_version')).toBe('7.0.15');
    expect(info.sections.get('replication')?.get('role')).toBe('master');
    expect(infoNumber(info, 'maxmemory')).toBe(268435456);
    expect(infoNumber(info, 'mem_fragmentation_ratio')).toBe(9.02);
    expect(infoNumber(info, 'keyspace_hits')).toBe(451);
    expect(infoNumber(info, 'used_memory_human')).toBeUndefined(); // "1.38M" is not a number
    expect(info.keyspace).toEqual([
      { db: '0', keys: 382, expires: 340, avgTtlMs: 3364626 },
      { db: '1', keys: 2, expires: 0, avgTtlMs: 0 },
    ]);
    expect(info.commands.find((c) => c.cmd === 'get')).toEqual({
      cmd: 'get',
      calls: 525,
      usec: 493,
      rejectedCalls: 1,
      failedCalls: 0,
    });
    expect(info.commands.find((c) => c.cmd === 'lpush')?.failedCalls).toBe(1);
    expect(info.commands.map((c) => c.cmd)).toContain('config|get');
    expect(info.latency.find((l) => l.cmd === 'set')).toEqual({
      cmd: 'set',
      percentiles: [
        { percentile: '50', quantile: '0.5', usec: 2.007 },
        { percentile: '99', quantile: '0.99', usec: 10.047 },
        { percentile: '99.9', quantile: '0.999', usec: 20.095 },
      ],
    });
    expect(info.latency.map((l) => l.cmd).sort()).toEqual(info.commands.map((c) => c.cmd).sort());
  });

  it('reads a Redis 6.2 INFO ALL: commandstats with rejected/failed calls, no latencystats', () => {
    const info = parse(fixture('info-6.txt'));
    expect(info.ignoredLines).toBe(0);
    expect(info.sections.has('latencystats')).toBe(false);
    expect(info.latency).toEqual([]);
    expect(info.fields.get('redis_version')).toBe('6.2.14');
    expect(infoNumber(info, 'maxmemory')).toBe(0);
    expect(info.commands).toHaveLength(20);
    expect(info.commands.find((c) => c.cmd === 'evalsha')).toEqual({
      cmd: 'evalsha',
      calls: 1954233,
      usec: 21887409,
      rejectedCalls: 0,
      failedCalls: 5,
    });
    expect(info.commands.some((c) => c.cmd.includes('|'))).toBe(false);
    expect(info.keyspace.map((k) => k.db)).toEqual(['0', '2']);
    // total_commands_processed covers every call in commandstats (rejected calls are counted too)
    const calls = info.commands.reduce((sum, c) => sum + c.calls, 0);
    expect(infoNumber(info, 'total_commands_processed')).toBeGreaterThanOrEqual(calls);
  });
});

describe('parseRedisInfo: counts that cannot be mirrored (issue 11 B5)', () => {
  // Found by test/collectors/redis-hostile-info.test.ts: a negative count threw in Counter.inc ("It is not possible to
  // decrease a counter") and an infinite one in Gauge.set, which failed the whole Redis scrape; +Inf reached gauges.
  it.each([
    ['a negative call count', 'cmdstat_get:calls=-1,usec=200\r\ncmdstat_set:calls=2,usec=3\r\n'],
    ['an infinite call count', 'cmdstat_get:calls=1e400,usec=200\r\ncmdstat_set:calls=2,usec=3\r\n'],
    ['a negative time', 'cmdstat_get:calls=1,usec=-2\r\ncmdstat_set:calls=2,usec=3\r\n'],
  ])('%s: that command is left out, the others kept', (_name, text) => {
    expect(parse(text).commands.map((c) => c.cmd)).toEqual(['set']);
  });

  it('drops a negative failed-call count and infinite or negative keyspace numbers; no field is ever Infinity', () => {
    const info = parse(
      'cmdstat_get:calls=1,usec=2,failed_calls=-3\r\ndb0:keys=1e400,expires=0\r\ndb1:keys=1,expires=-1\r\ndb2:keys=2,expires=0\r\nuptime_in_seconds:1e400\r\n',
    );
    expect(info.commands).toEqual([expect.objectContaining({ cmd: 'get', calls: 1, usec: 2, failedCalls: undefined })]);
    expect(info.keyspace.map((k) => k.db)).toEqual(['2']);
    expect(infoNumber(info, 'uptime_in_seconds')).toBeUndefined();
    expect(parseInfoNumber('1e400')).toBeUndefined();
    expect(parseInfoNumber('-5')).toBe(-5); // a gauge may be negative (mem_fragmentation_bytes)
  });
});

describe('parseRedisInfo on odd input', () => {
  it.each([
    [
      'LF line endings',
      '# Server\nredis_version:7.2.4\n',
      (i: RedisInfo) => expect(i.fields.get('redis_version')).toBe('7.2.4'),
    ],
    [
      'fields before any header',
      'redis_version:5.0.7\r\n',
      (i: RedisInfo) => expect(i.sections.get('')?.get('redis_version')).toBe('5.0.7'),
    ],
    [
      'a value holding colons',
      '# Server\r\nexecutable:/opt/redis:7/redis-server\r\n',
      (i: RedisInfo) => expect(i.fields.get('executable')).toBe('/opt/redis:7/redis-server'),
    ],
    ['an empty value', '# Server\r\nconfig_file:\r\n', (i: RedisInfo) => expect(i.fields.get('config_file')).toBe('')],
    [
      'Redis 6.0 commandstats without rejected/failed calls',
      '# Commandstats\r\ncmdstat_get:calls=10,usec=25,usec_per_call=2.50\r\n',
      (i: RedisInfo) =>
        expect(i.commands).toEqual([
          { cmd: 'get', calls: 10, usec: 25, rejectedCalls: undefined, failedCalls: undefined },
        ]),
    ],
    [
      'Redis 7.4 keyspace with subexpiry',
      '# Keyspace\r\ndb3:keys=5,expires=2,avg_ttl=1000,subexpiry=1\r\n',
      (i: RedisInfo) => expect(i.keyspace).toEqual([{ db: '3', keys: 5, expires: 2, avgTtlMs: 1000 }]),
    ],
    [
      'old keyspace without avg_ttl',
      '# Keyspace\r\ndb0:keys=5,expires=2\r\n',
      (i: RedisInfo) => expect(i.keyspace).toEqual([{ db: '0', keys: 5, expires: 2, avgTtlMs: undefined }]),
    ],
    [
      'custom latency-tracking-info-percentiles',
      '# Latencystats\r\nlatency_percentiles_usec_get:p0=1,p99.99=12.5,p100=40\r\n',
      (i: RedisInfo) =>
        expect(i.latency[0]?.percentiles.map((p) => [p.quantile, p.usec])).toEqual([
          ['0', 1],
          ['0.9999', 12.5],
          ['1', 40],
        ]),
    ],
    [
      'upper-case command names are lower-cased',
      '# Commandstats\r\ncmdstat_GET:calls=1,usec=2\r\n',
      (i: RedisInfo) => expect(i.commands[0]?.cmd).toBe('get'),
    ],
  ])('%s', (_name, text, check) => {
    check(parse(text));
  });

  it.each([
    ['a line without a colon', '# Server\r\nthis is not a field\r\nredis_version:7.0.0\r\n'],
    ['a line starting with a colon', '# Server\r\n:7.0.0\r\nredis_version:7.0.0\r\n'],
    ['a malformed cmdstat', '# Commandstats\r\ncmdstat_get:calls=x,usec=1\r\nredis_version:7.0.0\r\n'],
    ['a cmdstat without usec', '# Commandstats\r\ncmdstat_get:calls=1\r\nredis_version:7.0.0\r\n'],
    ['a malformed keyspace line', '# Keyspace\r\ndb0:keys=,expires=0\r\nredis_version:7.0.0\r\n'],
    [
      'a latency line with a non-percentile',
      '# Latencystats\r\nlatency_percentiles_usec_get:q50=1\r\nredis_version:7.0.0\r\n',
    ],
    ['a percentile above 100', '# Latencystats\r\nlatency_percentiles_usec_get:p150=1\r\nredis_version:7.0.0\r\n'],
    ['a list item without =', '# Commandstats\r\ncmdstat_get:calls=1,usec\r\nredis_version:7.0.0\r\n'],
  ])('counts %s as ignored and keeps going', (_name, text) => {
    const info = parse(text);
    expect(info.ignoredLines).toBe(1);
    expect(info.fields.get('redis_version')).toBe('7.0.0');
    expect(info.commands).toEqual([]);
    expect(info.keyspace).toEqual([]);
    expect(info.latency).toEqual([]);
  });

  it.each([
    ['empty text', '', /empty/],
    ['blank lines', '\r\n\r\n', /empty/],
    ['an error reply', 'NOAUTH Authentication required.', /no field:value lines/],
    ['headers only', '# Server\r\n# Clients\r\n', /no field:value lines/],
  ])('rejects %s', (_name, text, reason) => {
    const result = parseRedisInfo(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it.each([
    ['0', 0],
    ['42', 42],
    ['-1', -1],
    ['7.63', 7.63],
    ['1e3', 1000],
    ['', undefined],
    [' 1', undefined],
    ['0x10', undefined],
    ['1.38M', undefined],
    ['nan', undefined],
    [undefined, undefined],
  ])('parseInfoNumber(%j) = %j', (text, expected) => {
    expect(parseInfoNumber(text)).toBe(expected);
  });
});
