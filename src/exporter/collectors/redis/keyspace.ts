import type { KeyspaceStat } from '../../parsers/redis-info.js';
import { rowsFamily } from '../collector.js';

/* INFO keyspace (`db0:keys=382,expires=340,avg_ttl=..`, parsed by parsers/redis-info.ts into KeyspaceStat). */

const db = (k: KeyspaceStat): string[] => [k.db];

export const KEYSPACE_FAMILIES = [
  rowsFamily(
    { name: 'crm_redis_db_keys', help: 'INFO keyspace db<N> keys.', type: 'gauge', labelNames: ['db'] },
    db,
    (k: KeyspaceStat) => k.keys,
  ),
  rowsFamily(
    {
      name: 'crm_redis_db_keys_expiring',
      help: 'INFO keyspace db<N> expires (keys with a TTL).',
      type: 'gauge',
      labelNames: ['db'],
    },
    db,
    (k: KeyspaceStat) => k.expires,
  ),
];
