import { Redis } from 'ioredis';
import { CrmStartError } from './errors.js';
import { errorMessage, type Logger } from './log.js';
import { redactUrl } from './redact.js';

/**
 * A client that fails fast while Redis is away (no offline queue, short command timeout) so callers
 * can degrade to PostgreSQL instead of hanging, and that reconnects in the background.
 */
export function newRedis(redisUrl: string, commandTimeoutMs = 500): Redis {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 3_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    connectionName: 'crm-service',
  });
  // Until logging is attached, swallow errors: connectRedis reports the first one itself.
  redis.on('error', () => {});
  return redis;
}

/** Logs the transitions (down once, up once), not every reconnect attempt. */
export function logRedisHealth(redis: Redis, redisUrl: string, log: Logger): void {
  let healthy = true;
  redis.removeAllListeners('error');
  redis.on('error', (err: Error) => {
    if (healthy)
      log('warn', `redis unavailable (${redactUrl(redisUrl)}): ${err.message}; serving from PostgreSQL meanwhile`);
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) log('info', 'redis reachable again');
    healthy = true;
  });
}

/** A connected client, or a CrmStartError naming the URL (password hidden). */
export async function connectRedis(redisUrl: string, log: Logger): Promise<Redis> {
  const redis = newRedis(redisUrl);
  // connect() rejects with a bare "Connection is closed"; the reason arrives as an 'error' event.
  let reason: Error | undefined;
  redis.on('error', (err: Error) => {
    reason ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const why = errorMessage(reason ?? err).replace(/\.$/, '');
    throw new CrmStartError(
      `Redis is unreachable at ${redactUrl(redisUrl)}: ${why}. Is Redis running? Set REDIS_URL or --redis-url`,
      { cause: reason ?? err },
    );
  }
  logRedisHealth(redis, redisUrl, log);
  return redis;
}
