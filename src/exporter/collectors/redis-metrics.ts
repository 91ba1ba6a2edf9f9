import { Counter, Gauge, type MetricType, type Registry } from 'prom-client';

/**
 * The Redis collector's metric definitions (names live beside their definitions and are
 * exported for the consistency tests). HELP names the INFO field each value comes from.
 */
export const REDIS_METRIC_NAMES = {
  up: 'crm_redis_up',
  serverInfo: 'crm_redis_server_info',
  uptime: 'crm_redis_uptime_seconds',
  connectedClients: 'crm_redis_connected_clients',
  blockedClients: 'crm_redis_blocked_clients',
  rejectedConnections: 'crm_redis_rejected_connections_total',
  memoryUsed: 'crm_redis_memory_used_bytes',
  memoryMax: 'crm_redis_memory_max_bytes',
  memoryFragmentation: 'crm_redis_memory_fragmentation_ratio',
  keyspaceHits: 'crm_redis_keyspace_hits_total',
  keyspaceMisses: 'crm_redis_keyspace_misses_total',
  evictedKeys: 'crm_redis_evicted_keys_total',
  expiredKeys: 'crm_redis_expired_keys_total',
  commandsProcessed: 'crm_redis_commands_processed_total',
  commands: 'crm_redis_commands_total',
  commandsDuration: 'crm_redis_commands_duration_seconds_total',
  commandsFailed: 'crm_redis_commands_failed_total',
  commandLatency: 'crm_redis_command_latency_seconds',
  dbKeys: 'crm_redis_db_keys',
  dbKeysExpiring: 'crm_redis_db_keys_expiring',
  slowlogLength: 'crm_redis_slowlog_length',
  netInput: 'crm_redis_net_input_bytes_total',
  netOutput: 'crm_redis_net_output_bytes_total',
  keyGroupKeys: 'crm_redis_key_group_keys',
  keyGroupTruncated: 'crm_redis_key_group_scan_truncated',
} as const;

/**
 * A family of precomputed quantiles exposed with the Prometheus `summary` type.
 *
 * Redis's INFO latencystats are exactly that: server-side percentiles of each command's latency since the last
 * CONFIG RESETSTAT. Prometheus reserves the `quantile` label for summaries (`promtool check metrics` reports
 * "non-summary metrics should not have quantile label" for a gauge), and OpenMetrics allows a summary made of
 * quantiles alone, so this is a Gauge that declares itself a summary. Its `_count` and `_sum` would duplicate
 * crm_redis_commands_total and crm_redis_commands_duration_seconds_total, so they are not emitted.
 */
export class QuantileSummary<T extends string> extends Gauge<T> {
  override async get(): ReturnType<Gauge<T>['get']> {
    const metric = await super.get();
    return { ...metric, type: 'summary' as unknown as MetricType };
  }
}

export function createRedisMetrics(registry: Registry) {
  const registers = [registry];
  const n = REDIS_METRIC_NAMES;
  return {
    up: new Gauge({ name: n.up, help: 'Whether the last scrape read Redis INFO (1) or could not (0).', registers }),
    serverInfo: new Gauge({
      name: n.serverInfo,
      help: 'Always 1; labels from INFO server redis_version, redis_mode and INFO replication role.',
      labelNames: ['version', 'mode', 'role'] as const,
      registers,
    }),
    uptime: new Gauge({ name: n.uptime, help: 'INFO server uptime_in_seconds.', registers }),
    connectedClients: new Gauge({
      name: n.connectedClients,
      help: 'INFO clients connected_clients (client connections, replicas excluded).',
      registers,
    }),
    blockedClients: new Gauge({
      name: n.blockedClients,
      help: 'INFO clients blocked_clients (clients waiting in a blocking call).',
      registers,
    }),
    rejectedConnections: new Counter({
      name: n.rejectedConnections,
      help: 'INFO stats rejected_connections (refused because of maxclients).',
      registers,
    }),
    memoryUsed: new Gauge({ name: n.memoryUsed, help: 'INFO memory used_memory, in bytes.', registers }),
    memoryMax: new Gauge({
      name: n.memoryMax,
      help: 'INFO memory maxmemory, in bytes; 0 means no limit is configured.',
      registers,
    }),
    memoryFragmentation: new Gauge({
      name: n.memoryFragmentation,
      help: 'INFO memory mem_fragmentation_ratio (used_memory_rss / used_memory).',
      registers,
    }),
    keyspaceHits: new Counter({
      name: n.keyspaceHits,
      help: 'INFO stats keyspace_hits (successful key lookups).',
      registers,
    }),
    keyspaceMisses: new Counter({
      name: n.keyspaceMisses,
      help: 'INFO stats keyspace_misses (failed key lookups).',
      registers,
    }),
    evictedKeys: new Counter({
      name: n.evictedKeys,
      help: 'INFO stats evicted_keys (keys evicted because of maxmemory).',
      registers,
    }),
    expiredKeys: new Counter({
      name: n.expiredKeys,
      help: 'INFO stats expired_keys (key expiration events).',
      registers,
    }),
    commandsProcessed: new Counter({
      name: n.commandsProcessed,
      help: 'INFO stats total_commands_processed.',
      registers,
    }),
    commands: new Counter({
      name: n.commands,
      help: 'INFO commandstats cmdstat_<cmd> calls (calls that reached execution).',
      labelNames: ['cmd'] as const,
      registers,
    }),
    commandsDuration: new Counter({
      name: n.commandsDuration,
      help: 'INFO commandstats cmdstat_<cmd> usec, in seconds (CPU time spent executing the command).',
      labelNames: ['cmd'] as const,
      registers,
    }),
    commandsFailed: new Counter({
      name: n.commandsFailed,
      help: 'INFO commandstats cmdstat_<cmd> failed_calls (errors from within the command; Redis 6.2+).',
      labelNames: ['cmd'] as const,
      registers,
    }),
    commandLatency: new QuantileSummary({
      name: n.commandLatency,
      help: 'INFO latencystats latency_percentiles_usec_<cmd>, in seconds (server-side percentiles since start or CONFIG RESETSTAT; Redis 7+).',
      labelNames: ['cmd', 'quantile'] as const,
      registers,
    }),
    dbKeys: new Gauge({ name: n.dbKeys, help: 'INFO keyspace db<N> keys.', labelNames: ['db'] as const, registers }),
    dbKeysExpiring: new Gauge({
      name: n.dbKeysExpiring,
      help: 'INFO keyspace db<N> expires (keys with a TTL).',
      labelNames: ['db'] as const,
      registers,
    }),
    slowlogLength: new Gauge({
      name: n.slowlogLength,
      help: 'SLOWLOG LEN (entries in the slow log, at most slowlog-max-len).',
      registers,
    }),
    netInput: new Counter({ name: n.netInput, help: 'INFO stats total_net_input_bytes.', registers }),
    netOutput: new Counter({ name: n.netOutput, help: 'INFO stats total_net_output_bytes.', registers }),
    keyGroupKeys: new Gauge({
      name: n.keyGroupKeys,
      help: 'Keys matching the key group pattern, counted with SCAN MATCH (a lower bound when the scan was truncated).',
      labelNames: ['group'] as const,
      registers,
    }),
    keyGroupTruncated: new Gauge({
      name: n.keyGroupTruncated,
      help: '1 when the key group SCAN stopped at redis.key_group_scan_budget before finishing, else 0.',
      labelNames: ['group'] as const,
      registers,
    }),
  };
}

export type RedisMetrics = ReturnType<typeof createRedisMetrics>;
