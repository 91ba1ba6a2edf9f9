import type { Counter, Gauge, Registry } from 'prom-client';
import type { RedisConfig } from '../config/schema.js';
import { infoNumber, parseInfoNumber, parseRedisInfo, type RedisInfo } from '../parsers/redis-info.js';
import { RedisSource, type RedisReply } from '../sources/redis-client.js';
import type { Collector } from './collector.js';
import { KeyGroupScan, type KeyGroupCount } from './key-groups.js';
import { createRedisMetrics, type RedisMetrics } from './redis-metrics.js';

/** Everything one scrape read from Redis; `writeRedisMetrics` turns it into series (pure, used by the golden test). */
export interface RedisSnapshot {
  readonly info: RedisInfo;
  /** SLOWLOG LEN, or undefined when not read. */
  readonly slowlogLength: number | undefined;
  readonly keyGroups: readonly KeyGroupCount[];
}

export interface RedisCollectorOptions {
  config: RedisConfig;
  registry: Registry;
  /** An existing connection (tests); by default one is built from `config`. */
  source?: RedisSource;
}

/** Microseconds per second: divide (one correctly rounded operation) rather than multiply by 1e-6. */
const USEC_PER_SECOND = 1e6;

function setGauge(gauge: Gauge, value: number | undefined): void {
  if (value === undefined) gauge.remove();
  else gauge.set(value);
}

/** Mirrors Redis's cumulative value: reset() then inc(value); no series when INFO lacks the field. */
function setCounter(counter: Counter, value: number | undefined): void {
  counter.reset();
  if (value === undefined || value < 0) counter.remove();
  else counter.inc(value);
}

function unlabelled(m: RedisMetrics): Array<Gauge | Counter> {
  return [
    m.uptime,
    m.connectedClients,
    m.blockedClients,
    m.rejectedConnections,
    m.memoryUsed,
    m.memoryMax,
    m.memoryFragmentation,
    m.keyspaceHits,
    m.keyspaceMisses,
    m.evictedKeys,
    m.expiredKeys,
    m.commandsProcessed,
    m.slowlogLength,
    m.netInput,
    m.netOutput,
  ];
}

function labelled(m: RedisMetrics): Array<{ reset(): void }> {
  return [
    m.serverInfo,
    m.commands,
    m.commandsDuration,
    m.commandsFailed,
    m.commandLatency,
    m.dbKeys,
    m.dbKeysExpiring,
    m.keyGroupKeys,
    m.keyGroupTruncated,
  ];
}

/** Removes every Redis series and sets crm_redis_up to 0 (the collector's reset()). */
export function clearRedisMetrics(m: RedisMetrics): void {
  for (const metric of unlabelled(m)) {
    metric.reset();
    metric.remove();
  }
  for (const metric of labelled(m)) metric.reset();
  m.up.set(0);
}

/** The one synchronous write step: every series from one snapshot, none left from an earlier one. */
export function writeRedisMetrics(m: RedisMetrics, snapshot: RedisSnapshot): void {
  const { info } = snapshot;
  const num = (field: string): number | undefined => infoNumber(info, field);

  m.up.set(1);
  m.serverInfo.reset();
  m.serverInfo.set(
    {
      version: info.fields.get('redis_version') ?? 'unknown',
      mode: info.fields.get('redis_mode') ?? 'unknown',
      role: info.fields.get('role') ?? 'unknown',
    },
    1,
  );
  setGauge(m.uptime, num('uptime_in_seconds'));
  setGauge(m.connectedClients, num('connected_clients'));
  setGauge(m.blockedClients, num('blocked_clients'));
  setCounter(m.rejectedConnections, num('rejected_connections'));
  setGauge(m.memoryUsed, num('used_memory'));
  setGauge(m.memoryMax, num('maxmemory'));
  setGauge(m.memoryFragmentation, num('mem_fragmentation_ratio'));
  setCounter(m.keyspaceHits, num('keyspace_hits'));
  setCounter(m.keyspaceMisses, num('keyspace_misses'));
  setCounter(m.evictedKeys, num('evicted_keys'));
  setCounter(m.expiredKeys, num('expired_keys'));
  setCounter(m.commandsProcessed, num('total_commands_processed'));
  setCounter(m.netInput, num('total_net_input_bytes'));
  setCounter(m.netOutput, num('total_net_output_bytes'));
  setGauge(m.slowlogLength, snapshot.slowlogLength);

  m.commands.reset();
  m.commandsDuration.reset();
  m.commandsFailed.reset();
  for (const stat of info.commands) {
    m.commands.inc({ cmd: stat.cmd }, stat.calls);
    m.commandsDuration.inc({ cmd: stat.cmd }, stat.usec / USEC_PER_SECOND);
    if (stat.failedCalls !== undefined) m.commandsFailed.inc({ cmd: stat.cmd }, stat.failedCalls);
  }

  m.commandLatency.reset();
  for (const entry of info.latency) {
    for (const p of entry.percentiles)
      m.commandLatency.set({ cmd: entry.cmd, quantile: p.quantile }, p.usec / USEC_PER_SECOND);
  }

  m.dbKeys.reset();
  m.dbKeysExpiring.reset();
  for (const db of info.keyspace) {
    m.dbKeys.set({ db: db.db }, db.keys);
    m.dbKeysExpiring.set({ db: db.db }, db.expires);
  }

  m.keyGroupKeys.reset();
  m.keyGroupTruncated.reset();
  for (const group of snapshot.keyGroups) {
    m.keyGroupKeys.set({ group: group.name }, group.keys);
    m.keyGroupTruncated.set({ group: group.name }, group.truncated ? 1 : 0);
  }
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
export class RedisCollector implements Collector {
  readonly name = 'redis';
  readonly metrics: RedisMetrics;
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
    this.metrics = createRedisMetrics(options.registry);
    clearRedisMetrics(this.metrics);
  }

  async update(signal: AbortSignal): Promise<void> {
    await this.source.ready(signal);
    const scan = new KeyGroupScan(this.config.key_groups, this.config.key_group_scan_budget);
    const [infoReply, slowlogReply, ...scanReplies] = await this.source.pipeline(
      [['INFO', 'ALL'], ['SLOWLOG', 'LEN'], ...scan.nextRound()],
      signal,
    );

    const infoText = value(infoReply, 'INFO ALL');
    const parsed = parseRedisInfo(typeof infoText === 'string' ? infoText : String(infoText));
    if (!parsed.ok) throw new Error(`INFO ALL: ${parsed.reason}`);
    const slowlog = value(slowlogReply, 'SLOWLOG LEN');
    const slowlogLength = typeof slowlog === 'number' ? slowlog : parseInfoNumber(String(slowlog));
    scan.accept(scanReplies.map((reply) => value(reply, 'SCAN')));

    while (!scan.done) {
      signal.throwIfAborted();
      const round = scan.nextRound();
      if (round.length === 0) break;
      const replies = await this.source.pipeline(round, signal);
      scan.accept(replies.map((reply) => value(reply, 'SCAN')));
    }

    signal.throwIfAborted();
    writeRedisMetrics(this.metrics, { info: parsed.info, slowlogLength, keyGroups: scan.results() });
  }

  reset(): void {
    clearRedisMetrics(this.metrics);
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}
