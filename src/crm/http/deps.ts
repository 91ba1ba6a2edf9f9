import type { FaultState } from '../admin/faults.js';
import type { ReadThroughCache } from '../cache.js';
import type { Database } from '../db/database.js';
import type { LockOptions, RedisLock } from '../lock.js';
import type { Logger } from '../log.js';
import type { Rankings } from '../rankings.js';
import type { TokenBucket } from '../rate-limit.js';
import type { Customer } from '../repositories/customers.js';

export interface Readiness {
  ready: boolean;
  postgres: string;
  redis: string;
}

/** Everything the HTTP layer needs, built by service.ts (or a test). */
export interface AppDeps {
  db: Database;
  customerCache: ReadThroughCache<Customer>;
  rankings: Rankings;
  lock: RedisLock;
  lockOptions: LockOptions;
  /** Every password hash (new user, password change) takes a token first; none left: 429. */
  passwordHashes: TokenBucket;
  faults: FaultState;
  /** Admin endpoints exist only when set. */
  adminToken: string | undefined;
  readiness: () => Promise<Readiness>;
  log: Logger;
}
