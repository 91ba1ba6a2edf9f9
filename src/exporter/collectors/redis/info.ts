import { infoNumber, type RedisInfo } from '../../parsers/redis-info.js';
import { seriesFamily, snapshotFamily, type SnapshotFamily } from '../collector.js';
import { defineFamily, type FamilyType } from '../../exposition/family.js';

/*
 * INFO's plain `field:value` lines (sections server, clients, memory, stats; parsed by parsers/redis-info.ts): one
 * family per field, named in the table below next to the field it reads. A field INFO lacks (an older Redis) has no
 * sample; a counter whose value is negative has none either (a counter cannot go down).
 */

export const SERVER_INFO_FAMILY = seriesFamily(
  {
    name: 'crm_redis_server_info',
    help: 'Always 1; labels from INFO server redis_version, redis_mode and INFO replication role.',
    type: 'gauge',
    labelNames: ['version', 'mode', 'role'],
  },
  (info: RedisInfo) => [
    [
      [
        info.fields.get('redis_version') ?? 'unknown',
        info.fields.get('redis_mode') ?? 'unknown',
        info.fields.get('role') ?? 'unknown',
      ],
      1,
    ],
  ],
);

/** A family with one unlabelled sample: the INFO `field`, when present. */
function field(name: string, type: FamilyType, infoField: string, help: string): SnapshotFamily<RedisInfo> {
  return snapshotFamily(defineFamily({ name, help, type, labelNames: [] }), (info: RedisInfo, emit) => {
    const value = infoNumber(info, infoField);
    if (value !== undefined && !(type === 'counter' && value < 0)) emit(value);
  });
}

/** The INFO fields before commandstats in the exposition, in order. */
export const INFO_FIELD_FAMILIES = [
  field('crm_redis_uptime_seconds', 'gauge', 'uptime_in_seconds', 'INFO server uptime_in_seconds.'),
  field(
    'crm_redis_connected_clients',
    'gauge',
    'connected_clients',
    'INFO clients connected_clients (client connections, replicas excluded).',
  ),
  field(
    'crm_redis_blocked_clients',
    'gauge',
    'blocked_clients',
    'INFO clients blocked_clients (clients waiting in a blocking call).',
  ),
  field(
    'crm_redis_rejected_connections_total',
    'counter',
    'rejected_connections',
    'INFO stats rejected_connections (refused because of maxclients).',
  ),
  field('crm_redis_memory_used_bytes', 'gauge', 'used_memory', 'INFO memory used_memory, in bytes.'),
  field(
    'crm_redis_memory_max_bytes',
    'gauge',
    'maxmemory',
    'INFO memory maxmemory, in bytes; 0 means no limit is configured.',
  ),
  field(
    'crm_redis_memory_fragmentation_ratio',
    'gauge',
    'mem_fragmentation_ratio',
    'INFO memory mem_fragmentation_ratio (used_memory_rss / used_memory).',
  ),
  field(
    'crm_redis_keyspace_hits_total',
    'counter',
    'keyspace_hits',
    'INFO stats keyspace_hits (successful key lookups).',
  ),
  field(
    'crm_redis_keyspace_misses_total',
    'counter',
    'keyspace_misses',
    'INFO stats keyspace_misses (failed key lookups).',
  ),
  field(
    'crm_redis_evicted_keys_total',
    'counter',
    'evicted_keys',
    'INFO stats evicted_keys (keys evicted because of maxmemory).',
  ),
  field('crm_redis_expired_keys_total', 'counter', 'expired_keys', 'INFO stats expired_keys (key expiration events).'),
  field(
    'crm_redis_commands_processed_total',
    'counter',
    'total_commands_processed',
    'INFO stats total_commands_processed.',
  ),
];

/** The network counters, after the slow log in the exposition. */
export const NET_FAMILIES = [
  field('crm_redis_net_input_bytes_total', 'counter', 'total_net_input_bytes', 'INFO stats total_net_input_bytes.'),
  field('crm_redis_net_output_bytes_total', 'counter', 'total_net_output_bytes', 'INFO stats total_net_output_bytes.'),
];
