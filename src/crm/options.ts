import { parseArgs } from 'node:util';
import type { CrmServiceOptions } from './service.js';

export const USAGE = `Usage: crm-service [serve|migrate|seed] [options]

  serve (default)        run the CRM service
  migrate                apply the schema migrations and exit
  seed --customers N     bulk-load N realistic customers (plus --users M, default 20)

Options (environment variable in brackets):
  --database-url URL     PostgreSQL [DATABASE_URL] (default postgres://postgres@127.0.0.1:5432/crm)
  --redis-url URL        Redis [REDIS_URL] (default redis://127.0.0.1:6379)
  --port N               listen port [PORT] (default 3000)
  --host H               listen address [HOST] (default 127.0.0.1)
  --access-log PATH      access log file, - for stdout [ACCESS_LOG] (default stdout)
  --access-log-reopen S  reopen the access log when its path changes, checked every S seconds [ACCESS_LOG_REOPEN]
  --redis-prefix P       prefix of every Redis key [REDIS_PREFIX] (default crm:)
  --create-database      create the database when it does not exist [CREATE_DATABASE=1]
  --cache-ttl S          customer cache TTL in seconds [CACHE_TTL_SECONDS] (default 300)
  --lock-ttl MS          password lock lease [LOCK_TTL_MS] (default 10000)
  --lock-wait MS         password lock bounded wait [LOCK_WAIT_MS] (default 200)
  --password-rate N      password hashes per second, bursts of 2N; beyond: 429 [PASSWORD_RATE] (default 10)
  --pg-pool-max N        PostgreSQL pool size [PG_POOL_MAX] (default 10)
  Admin endpoints (fault injection) need CRM_ADMIN_TOKEN; they do not exist without it.
  SIGTERM/SIGINT shut down gracefully; SIGHUP reopens the access log.
`;

export class UsageError extends Error {}

export interface Command {
  command: 'serve' | 'migrate' | 'seed' | 'help';
  service: CrmServiceOptions;
  seed: { customers: number; users: number };
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

function seconds(name: string, raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a number of seconds, got "${raw}"`);
  return value;
}

/** Flags win over environment variables, which win over defaults. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'access-log': { type: 'string' },
        'access-log-reopen': { type: 'string' },
        'redis-prefix': { type: 'string' },
        'create-database': { type: 'boolean' },
        'cache-ttl': { type: 'string' },
        'lock-ttl': { type: 'string' },
        'lock-wait': { type: 'string' },
        'password-rate': { type: 'string' },
        'pg-pool-max': { type: 'string' },
        customers: { type: 'string' },
        users: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values: v, positionals } = parsed;
  const name = positionals[0] ?? 'serve';
  if (positionals.length > 1 || !['serve', 'migrate', 'seed', 'help'].includes(name))
    throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  const command = v.help ? 'help' : (name as Command['command']);
  const accessLog = v['access-log'] ?? env.ACCESS_LOG;
  const service: CrmServiceOptions = {
    databaseUrl: v['database-url'] ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/crm',
    redisUrl: v['redis-url'] ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    port: int('PORT', v.port ?? env.PORT, 3000, 0, 65_535),
    host: v.host ?? env.HOST ?? '127.0.0.1',
    accessLog: accessLog === undefined || accessLog === '' ? '-' : accessLog,
    accessLogReopenSeconds: seconds('ACCESS_LOG_REOPEN', v['access-log-reopen'] ?? env.ACCESS_LOG_REOPEN),
    redisPrefix: v['redis-prefix'] ?? env.REDIS_PREFIX ?? 'crm:',
    adminToken: env.CRM_ADMIN_TOKEN || undefined,
    createDatabase: v['create-database'] ?? ['1', 'true', 'yes'].includes((env.CREATE_DATABASE ?? '').toLowerCase()),
    cacheTtlSeconds: int('CACHE_TTL_SECONDS', v['cache-ttl'] ?? env.CACHE_TTL_SECONDS, 300, 1, 86_400),
    lockTtlMs: int('LOCK_TTL_MS', v['lock-ttl'] ?? env.LOCK_TTL_MS, 10_000, 100, 600_000),
    lockWaitMs: int('LOCK_WAIT_MS', v['lock-wait'] ?? env.LOCK_WAIT_MS, 200, 0, 60_000),
    passwordRate: int('PASSWORD_RATE', v['password-rate'] ?? env.PASSWORD_RATE, 10, 1, 10_000),
    pgPoolMax: int('PG_POOL_MAX', v['pg-pool-max'] ?? env.PG_POOL_MAX, 10, 1, 1000),
    handleSignals: true,
  };
  if (command === 'seed' && v.customers === undefined) throw new UsageError('seed needs --customers N');
  return {
    command,
    service,
    seed: {
      customers: int('--customers', v.customers, 0, 1, 10_000_000),
      users: int('--users', v.users, 20, 0, 100_000),
    },
  };
}
