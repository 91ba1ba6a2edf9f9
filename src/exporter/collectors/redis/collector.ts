import type { Registry } from 'prom-client';
import type { RedisConfig } from '../../config/schema.js';
import { defineFamily } from '../../exposition/family.js';
import { parseRedisInfo, type RedisInfo } from '../../parsers/redis-info.js';
import { RedisSource, type RedisReply } from '../../sources/redis-client.js';
import { focus, registerSnapshotFamilies, type Collector, type SnapshotFamily } from '../collector.js';
import { COMMANDSTATS_FAMILIES, LATENCYSTATS_FAMILY } from './commandstats.js';
import { INFO_FIELD_FAMILIES, NET_FAMILIES, SERVER_INFO_FAMILY } from './info.js';
import { KEY_GROUP_FAMILIES, KeyGroupScan, type KeyGroupCount } from './key-groups.js';
import { KEYSPACE_FAMILIES } from './keyspace.js';
import { mapSlowlogReply, SLOWLOG_COMMAND, SLOWLOG_FAMILY } from './slowlog.js';

/*
 * The Redis collector: one pipelined round trip reads INFO ALL, SLOWLOG LEN and the first SCAN page of every key
 * group into a snapshot; each view module (info, commandstats, keyspace, slowlog, key-groups) holds the families
 * that read it, and this file puts them in exposition order and serves the last successful snapshot.
 */

/** Everything one scrape read from Redis. */
export interface RedisSnapshot {
  readonly info: RedisInfo;
  /** SLOWLOG LEN, or undefined when the reply was not a number. */
  readonly slowlogLength: number | undefined;
  readonly keyGroups: readonly KeyGroupCount[];
}

export const REDIS_UP = defineFamily({
  name: 'crm_redis_up',
  help: 'Whether the last scrape read Redis INFO (1) or could not (0).',
  type: 'gauge',
  labelNames: [],
});

const info = (s: RedisSnapshot): RedisInfo => s.info;

/** Every family but crm_redis_up, in exposition order (test/golden/redis.prom). */
export const REDIS_FAMILIES: readonly SnapshotFamily<RedisSnapshot>[] = [
  ...focus([SERVER_INFO_FAMILY, ...INFO_FIELD_FAMILIES], info),
  ...focus(COMMANDSTATS_FAMILIES, (s: RedisSnapshot) => s.info.commands),
  ...focus([LATENCYSTATS_FAMILY], (s: RedisSnapshot) => s.info.latency),
  ...focus(KEYSPACE_FAMILIES, (s: RedisSnapshot) => s.info.keyspace),
  ...focus([SLOWLOG_FAMILY], (s: RedisSnapshot) => s.slowlogLength),
  ...focus(NET_FAMILIES, info),
  ...focus(KEY_GROUP_FAMILIES, (s: RedisSnapshot) => s.keyGroups),
];

/** Registers the collector's families in `registry`, rendering `served()` at scrape time. */
export function registerRedisFamilies(registry: Registry, served: () => RedisSnapshot | undefined): void {
  registerSnapshotFamilies(registry, REDIS_UP, REDIS_FAMILIES, served);
}

export interface RedisCollectorOptions {
  config: RedisConfig;
  registry: Registry;
  /** An existing connection (tests); by default one is built from `config`. */
  source?: RedisSource;
}

function value(reply: RedisReply | undefined, what: string): unknown {
  if (!reply) throw new Error(`${what}: no reply`);
  if (!reply.ok) throw new Error(`${what}: ${reply.error.message}`);
  return reply.value;
}

/**
 * Scrape-time Redis collector. One scrape = one pipelined round trip (INFO ALL, SLOWLOG LEN and the first SCAN
 * page of every key group), plus one round trip per further SCAN round while key groups need it.
 */
export class RedisCollector implements Collector<RedisSnapshot> {
  readonly name = 'redis';
  served: RedisSnapshot | undefined;
  private readonly source: RedisSource;
  private readonly config: RedisConfig;

  constructor(options: RedisCollectorOptions) {
    this.config = options.config;
    this.source =
      options.source ??
      new RedisSource({
        url: options.config.url,
        passwordFile: options.config.password_file,
        timeoutMs: options.config.timeout,
      });
    registerRedisFamilies(options.registry, () => this.served);
  }

  async update(signal: AbortSignal): Promise<RedisSnapshot> {
    await this.source.ready(signal);
    const scan = new KeyGroupScan(this.config.key_groups, this.config.key_group_scan_budget);
    const [infoReply, slowlogReply, ...scanReplies] = await this.source.pipeline(
      [['INFO', 'ALL'], SLOWLOG_COMMAND, ...scan.nextRound()],
      signal,
    );

    const infoText = value(infoReply, 'INFO ALL');
    const parsed = parseRedisInfo(typeof infoText === 'string' ? infoText : String(infoText));
    if (!parsed.ok) throw new Error(`INFO ALL: ${parsed.reason}`);
    const slowlogLength = mapSlowlogReply(value(slowlogReply, 'SLOWLOG LEN'));
    scan.accept(scanReplies.map((reply) => value(reply, 'SCAN')));

    while (!scan.done) {
      signal.throwIfAborted();
      const round = scan.nextRound();
      if (round.length === 0) break;
      const replies = await this.source.pipeline(round, signal);
      scan.accept(replies.map((reply) => value(reply, 'SCAN')));
    }

    signal.throwIfAborted();
    return { info: parsed.info, slowlogLength, keyGroups: scan.results() };
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}
