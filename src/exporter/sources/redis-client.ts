import { readFileSync } from 'node:fs';
import type { Redis, RedisOptions } from 'ioredis';
import type * as IoRedis from 'ioredis';
import { redactSecrets } from '../config/mask.js';
import { ConfigError } from '../errors.js';
import { lazyPackage } from '../lazy-package.js';

// Loaded when a config has a redis section, not at start-up (ioredis alone is about 20 MiB of RSS).
const ioredis = lazyPackage<typeof IoRedis>('ioredis');

/**
 * The exporter's one Redis connection (I/O only; the collector decides what to ask).
 *
 * - `enableOfflineQueue: false`: while disconnected a command fails at once instead of waiting in a queue, so an
 *   outage costs a scrape nothing but a failed collector.
 * - `lazyConnect`: nothing connects before the first scrape; `ready()` starts and awaits the connection.
 * - `connectTimeout` / `commandTimeout` = `redis.timeout`; the scrape deadline (AbortSignal) bounds everything too.
 * - ioredis reconnects by itself with a short capped backoff, so Redis coming back needs no exporter restart.
 * - An `'error'` listener keeps ioredis's errors from crashing the process and remembers the last one for the
 *   collector's message. Nothing is logged here: the orchestrator logs a failing collector once per outage.
 */

export interface RedisSourceOptions {
  /** `redis://[user[:password]@]host[:port][/db]`, `rediss://` for TLS, or `host:port`. */
  url: string;
  /** File holding the password (one line); wins over a password in the URL. */
  passwordFile?: string | undefined;
  /** Connect and command timeout, in milliseconds. */
  timeoutMs: number;
}

/** One reply of a pipelined round trip: the Redis error (a reply error or a connection error) or the value. */
export type RedisReply = { ok: true; value: unknown } | { ok: false; error: Error };

/** Longest pause between reconnection attempts, in milliseconds. */
export const RECONNECT_MAX_DELAY_MS = 1000;

function readPassword(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(
      [`redis.password_file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`],
      { cause: err },
    );
  }
}

/** What a usable URL looks like, worded so that it does not itself look like a URL with a secret. */
const URL_SHAPE = 'a redis or rediss URL with a host, an optional port and an optional /db number';

/** The URL as WHATWG parses it (a scheme-less `host:port` gets redis://), or why it cannot be used. */
function parseRedisUrl(url: string): { parsed: URL; problem?: undefined } | { problem: string } {
  // A raw ? # or whitespace is never part of a usable Redis URL; in a password it would move the rest of it into a
  // query or fragment that nothing reads, and the password into the host.
  if (/[?#\s]/.test(url))
    return { problem: `must be ${URL_SHAPE}, without query or fragment (percent-encode ? # and spaces in a password)` };
  let parsed: URL;
  try {
    parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `redis://${url}`);
  } catch {
    return {
      problem: `is not a valid URL: must be ${URL_SHAPE} (percent-encode / ? # @ : % in the user name and password)`,
    };
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    return { problem: `scheme must be redis:// or rediss://` };
  if (!/^(\/\d*)?$/.test(parsed.pathname)) {
    return {
      problem: `path must be a database number such as /0 (percent-encode / and @ in the user name and password)`,
    };
  }
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return { problem: 'the user name or password is not valid percent-encoding (write % as %25)' };
  }
  return { parsed };
}

/**
 * Why `url` cannot be used as `redis.url`, or undefined when it can. The message never repeats the URL or any part
 * of it (it may hold a password). For the config checks, so check-config and start-up refuse the same URLs.
 */
export function redisUrlProblem(url: string): string | undefined {
  return parseRedisUrl(url).problem;
}

/**
 * The ioredis options for a URL (pure, exported for tests). The URL is parsed here rather than by ioredis so a
 * password from `password_file` reliably takes precedence over one in the URL.
 */
export function redisConnectionOptions(url: string, password: string | undefined, timeoutMs: number): RedisOptions {
  const result = parseRedisUrl(url);
  if (result.problem !== undefined) throw new ConfigError([`redis.url: ${result.problem}`]);
  const { parsed } = result;
  const dbText = parsed.pathname.replace(/^\//, '');
  const urlPassword = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: password ?? urlPassword,
    db: dbText === '' ? 0 : Number(dbText),
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (times: number) => Math.min(times * 100, RECONNECT_MAX_DELAY_MS),
    // No CLIENT SETNAME / SETINFO on connect: each is one more round trip that a hung server makes wait for
    // commandTimeout before the ready check even starts, and SETINFO (Redis 7.2+) is an error reply on older servers
    // that would show in their errorstats.
    disableClientInfo: true,
  };
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Resolves or rejects with `promise`, or rejects as soon as `signal` aborts (the promise is still observed). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export class RedisSource {
  readonly client: Redis;
  private readonly description: string;
  private down = false;
  private lastError: Error | undefined;
  private closed = false;

  constructor(options: RedisSourceOptions) {
    const password = options.passwordFile ? readPassword(options.passwordFile) : undefined;
    const connection = redisConnectionOptions(options.url, password, options.timeoutMs);
    this.description = `${connection.tls ? 'rediss' : 'redis'}://${connection.host}:${connection.port}/${connection.db}`;
    this.client = new (ioredis().Redis)(connection);
    this.client.on('error', (err: Error) => {
      this.lastError = err;
      this.down = true;
    });
    this.client.on('close', () => {
      this.down = true;
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
      this.down = false;
    });
  }

  /** `redis://host:port/db` without credentials, for messages. */
  get target(): string {
    return this.description;
  }

  /**
   * Resolves when the connection is ready. Starts it on first use and waits for that first attempt (bounded by
   * `signal` and the connect/command timeouts); fails at once during an outage, until ioredis has reconnected.
   */
  async ready(signal: AbortSignal): Promise<void> {
    const client = this.client;
    if (client.status === 'ready') return;
    if (this.closed || client.status === 'end') throw new Error(`redis ${this.description}: connection closed`);
    // During an outage (an error or a lost connection since the last 'ready') fail at once: ioredis keeps
    // reconnecting in the background, and a half-open connection to a hung server can stay in 'connect' for long.
    if (this.down || client.status === 'reconnecting' || client.status === 'close') {
      throw new Error(
        `redis ${this.description}: not connected (${redactSecrets(this.lastError?.message ?? 'connection lost')}; retrying)`,
      );
    }
    const waiting = new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('close', onClose);
      };
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new Error(`redis ${this.description}: ${redactSecrets(err.message)}`));
      };
      const onClose = (): void => {
        cleanup();
        reject(
          new Error(`redis ${this.description}: ${redactSecrets(this.lastError?.message ?? 'connection closed')}`),
        );
      };
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('close', onClose);
      signal.addEventListener('abort', cleanup, { once: true });
    });
    if (client.status === 'wait') client.connect().catch(() => undefined); // failures reach the listeners
    await raceAbort(waiting, signal);
  }

  /** Sends `commands` in one pipelined round trip; one reply per command, in order. Rejects on abort. */
  async pipeline(commands: readonly (readonly string[])[], signal: AbortSignal): Promise<RedisReply[]> {
    if (commands.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const [command, ...args] of commands) if (command !== undefined) pipeline.call(command, ...args);
    const result = await raceAbort(pipeline.exec(), signal);
    if (!result) throw new Error(`redis ${this.description}: pipeline discarded`);
    return result.map(([error, value]) => (error ? { ok: false, error } : { ok: true, value }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => undefined);
    }
    this.client.disconnect();
  }
}
