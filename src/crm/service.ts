import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { AccessLogFile, AccessLogStdout, type AccessLogSink } from './access-log.js';
import { FaultState } from './admin/faults.js';
import { createApp, type Readiness } from './app.js';
import { ReadThroughCache } from './cache.js';
import { connectPostgres } from './db/connect.js';
import { createDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { RedisLock } from './lock.js';
import { errorMessage, stderrLogger, type Logger } from './log.js';
import { Rankings } from './rankings.js';
import { TokenBucket } from './rate-limit.js';
import { connectRedis } from './redis.js';
import type { Customer } from './repositories/customers.js';

export interface CrmServiceOptions {
  databaseUrl: string;
  redisUrl: string;
  /** 0 picks a free port (tests). Default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A file path, `-` for stdout, or false for no access log. Default stdout. */
  accessLog?: string | false;
  /** Seconds between checks that the access-log path still names the open file (logrotate). 0 = only on SIGHUP/reopen. */
  accessLogReopenSeconds?: number;
  /** Prefix of every Redis key this instance uses. Default `crm:`. */
  redisPrefix?: string;
  /** Enables /admin endpoints (fault injection) guarded by this bearer token. */
  adminToken?: string;
  cacheTtlSeconds?: number;
  rankingsTtlSeconds?: number;
  lockTtlMs?: number;
  lockWaitMs?: number;
  /** Password hashes (new users, password changes) per second, bursts of twice that. Default 10. */
  passwordRate?: number;
  pgPoolMax?: number;
  createDatabase?: boolean;
  /** Wait this long for in-flight requests on close before cutting connections. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** SIGTERM/SIGINT close the service, SIGHUP reopens the access log. For the CLI; off by default. */
  handleSignals?: boolean;
  log?: Logger;
}

export interface CrmService {
  readonly url: string;
  readonly port: number;
  /** Stop accepting, finish in-flight requests, close pools, flush the access log. Idempotent. */
  close(): Promise<void>;
  reopenAccessLog(): Promise<void>;
}

async function openAccessLog(
  opts: CrmServiceOptions,
  log: Logger,
): Promise<{ sink?: AccessLogSink; file?: AccessLogFile }> {
  const target = opts.accessLog ?? '-';
  if (target === false) return {};
  if (target === '-') return { sink: new AccessLogStdout() };
  const file = await AccessLogFile.open(target, {
    reopenCheckMs: (opts.accessLogReopenSeconds ?? 0) * 1000,
    log,
  }).catch((err: unknown) => {
    throw new Error(`cannot open access log ${target}: ${errorMessage(err)}`, { cause: err });
  });
  return { sink: file, file };
}

async function checkReadiness(pool: pg.Pool, redis: Redis, closing: boolean): Promise<Readiness> {
  const probe = async (fn: () => Promise<unknown>): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 1s')), 1_000);
    });
    try {
      await Promise.race([fn(), timeout]);
      return 'ok';
    } catch (err) {
      return errorMessage(err);
    } finally {
      clearTimeout(timer);
    }
  };
  const [postgres, redisState] = await Promise.all([probe(() => pool.query('SELECT 1')), probe(() => redis.ping())]);
  return {
    ready: !closing && postgres === 'ok' && redisState === 'ok',
    postgres: closing ? 'shutting down' : postgres,
    redis: redisState,
  };
}

/** Connects, migrates, listens. Throws CrmStartError (a plain, actionable message) when PostgreSQL or Redis is unreachable. */
export async function startCrmService(opts: CrmServiceOptions): Promise<CrmService> {
  const log = opts.log ?? stderrLogger;
  const prefix = opts.redisPrefix ?? 'crm:';
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse())
      await fn().catch((err: unknown) => log('warn', `shutdown: ${errorMessage(err)}`));
  };
  try {
    const pool = await connectPostgres({
      databaseUrl: opts.databaseUrl,
      poolMax: opts.pgPoolMax ?? 10,
      createDatabase: opts.createDatabase ?? false,
      log,
    });
    cleanups.push(() => pool.end());
    const redis = await connectRedis(opts.redisUrl, log);
    cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
    const migrated = await migrate(pool);
    if (migrated.applied.length > 0)
      log('info', `applied migrations ${migrated.applied.join(', ')} (schema version ${migrated.current})`);
    const { sink, file } = await openAccessLog(opts, log);
    if (file) cleanups.push(() => file.close());

    const db = createDatabase(pool);
    const faults = new FaultState();
    cleanups.push(async () => faults.reset());
    const customerCache = new ReadThroughCache<Customer>('customer', {
      redis,
      prefix,
      ttlSeconds: opts.cacheTtlSeconds ?? 300,
      faults,
      log,
    });
    cleanups.push(async () => customerCache.close());
    const rankings = new Rankings({ redis, prefix, db, faults, log, ttlSeconds: opts.rankingsTtlSeconds ?? 3600 });
    let closing = false;
    const app = createApp(
      {
        db,
        customerCache,
        rankings,
        lock: new RedisLock(redis, prefix),
        lockOptions: { ttlMs: opts.lockTtlMs ?? 10_000, waitMs: opts.lockWaitMs ?? 200 },
        passwordHashes: new TokenBucket(opts.passwordRate ?? 10, 2 * (opts.passwordRate ?? 10)),
        faults,
        adminToken: opts.adminToken || undefined,
        readiness: () => checkReadiness(pool, redis, closing),
        log,
      },
      sink,
    );

    const server = createServer(app);
    server.keepAliveTimeout = 65_000;
    await listen(server, opts.port ?? 3000, opts.host ?? '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    const host = opts.host ?? '127.0.0.1';
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

    let closed: Promise<void> | undefined;
    let uninstallSignals = (): void => {};
    const close = (): Promise<void> => {
      closed ??= (async () => {
        closing = true;
        uninstallSignals();
        await stopServer(server, opts.shutdownTimeoutMs ?? 10_000);
        await rankings.idle();
        await cleanup();
      })();
      return closed;
    };
    const reopenAccessLog = async (): Promise<void> => {
      await file?.reopen();
    };
    if (opts.handleSignals) uninstallSignals = installSignals(close, reopenAccessLog, log);
    log(
      'info',
      `listening on ${url} (access log: ${opts.accessLog === false ? 'off' : (opts.accessLog ?? 'stdout')}, redis prefix ${prefix}, admin ${opts.adminToken ? 'on' : 'off'})`,
    );
    return { url, port, close, reopenAccessLog };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting, let in-flight requests finish (idle keep-alive sockets close now), cut the rest after the deadline. */
async function stopServer(server: Server, timeoutMs: number): Promise<void> {
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
  deadline.unref();
  await done;
  clearTimeout(deadline);
}

/** Returns a function that removes the handlers again. */
function installSignals(close: () => Promise<void>, reopen: () => Promise<void>, log: Logger): () => void {
  const stop = (signal: NodeJS.Signals): void => {
    log('info', `${signal}: shutting down`);
    close().then(
      () => log('info', 'stopped'),
      (err: unknown) => {
        log('error', `shutdown failed: ${errorMessage(err)}`);
        process.exitCode = 1;
      },
    );
  };
  const hup = (): void => {
    log('info', 'SIGHUP: reopening access log');
    void reopen();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', hup);
  return () => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGHUP', hup);
  };
}
