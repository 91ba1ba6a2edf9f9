import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type * as PgConnectionString from 'pg-connection-string';
import { hasAtAfterHost, redactSecrets, secretsIn } from '../config/mask.js';
import { lazyPackage } from '../lazy-package.js';

// Loaded when a config has a postgres section, not at start-up (a logs-only exporter never needs them).
const pgDriver = lazyPackage<typeof pg>('pg');
const connectionString = lazyPackage<typeof PgConnectionString>('pg-connection-string');
const parseIntoClientConfig = (url: string): ReturnType<typeof PgConnectionString.parseIntoClientConfig> =>
  connectionString().parseIntoClientConfig(url);

/** The application_name every exporter connection carries (visible in pg_stat_activity). */
export const APPLICATION_NAME = 'crm-exporter';

export interface PgPoolsOptions {
  /** postgres://user[:password]@host:port/database?sslmode=... (the database is the "primary" one). */
  url: string;
  /** File holding the password; read for each new connection (so a rotated password is picked up) and never logged. */
  passwordFile?: string;
  /** Per-query budget in ms: statement_timeout on the server, connect timeout and a client-side read timeout. */
  timeoutMs: number;
  /** How long an idle connection is kept between scrapes (default 60 s). */
  idleMs?: number;
}

/** Reads a password file: the first line, without its line ending (like libpq's passfile, no trimming of spaces). */
export async function readPasswordFile(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/**
 * Why `url` cannot be used as a PostgreSQL connection URL, or undefined when it can. The message never repeats the
 * URL or any part of it (it may hold a password). For config checks at start-up and for the PgPools constructor.
 *
 * Besides what pg-connection-string refuses, two shapes are refused because they misplace a password: a `#`
 * (everything after it is dropped) or an `@` after the host (a password written without percent-encoding, whose
 * tail became the database name or a parameter), and `?parameters` after a bare socket directory (taken as part of
 * the directory name: the password would be in every "connect ENOENT" message instead of being sent).
 */
export function postgresUrlProblem(url: string): string | undefined {
  if (!/^(postgres|postgresql):\/\//i.test(url) && !/^socket:/i.test(url) && !url.startsWith('/')) {
    return 'must be a postgres:// or postgresql:// URL (or socket:/dir?db=name, or a socket directory)';
  }
  const encodeHint = 'percent-encode / ? # @ : % & in the user name and password';
  if (url.includes('#')) return `must not contain # (${encodeHint})`;
  if (url.startsWith('/') && url.includes('?')) {
    return 'a socket directory takes no ?parameters (they become part of its name): use the socket:/dir?db=NAME form, or postgres:// with the directory percent-encoded as host';
  }
  if (hasAtAfterHost(url)) return `has an @ after the host (${encodeHint})`;
  try {
    parseIntoClientConfig(url);
    return undefined;
  } catch (err) {
    // The error text may quote a part of the URL (a file path of sslcert, a decoding failure): redacted by what the
    // URL itself holds.
    return `is not a valid connection URL (${redactSecrets(err instanceof Error ? err.message : String(err), secretsIn({ url }))})`;
  }
}

/**
 * The exporter's connections: one small pg.Pool per database, each with at most ONE connection, so the exporter
 * never has more than one busy connection per database, whatever the number of concurrent or timed-out scrapes.
 * A query waiting for that connection gives up after `timeoutMs` (pg-pool's connectionTimeoutMillis).
 *
 * The primary pool uses the database named in the URL (cluster-wide views are read there); pools for other
 * databases are created on first use and dropped with `retain()` when their database is no longer monitored.
 */
export class PgPools {
  private readonly base: pg.PoolConfig;
  private readonly primaryPool: pg.Pool;
  private readonly pools = new Map<string, pg.Pool>();
  private primaryName: string | undefined;
  private closed = false;
  /** The primary database as named in the URL, for messages ("(default)" when the URL names none). */
  readonly primaryLabel: string;

  constructor(private readonly options: PgPoolsOptions) {
    const problem = postgresUrlProblem(options.url);
    if (problem) throw new Error(`postgres.url ${problem}`);
    const parsed = parseIntoClientConfig(options.url);
    const timeout = options.timeoutMs;
    const password: pg.ClientConfig['password'] = options.passwordFile
      ? () => readPasswordFile(options.passwordFile as string)
      : parsed.password || undefined;
    this.base = {
      ...parsed,
      password,
      application_name: APPLICATION_NAME,
      statement_timeout: timeout,
      // Client-side safety net for a server that stops answering mid-query (the server's own statement_timeout
      // fires first; this one destroys the socket so the connection is not left busy forever).
      query_timeout: timeout + 1000,
      connectionTimeoutMillis: timeout,
      keepAlive: true,
      max: 1,
      min: 0,
      idleTimeoutMillis: options.idleMs ?? 60_000,
      allowExitOnIdle: true,
    };
    this.primaryLabel = parsed.database ?? '(default)';
    this.primaryPool = this.create({});
  }

  /** The pool of the database named in the URL. */
  primary(): pg.Pool {
    return this.primaryPool;
  }

  /** Tells the pools which database the primary connection is on (from current_database()), so it is reused. */
  setPrimaryName(name: string): void {
    this.primaryName = name;
    const duplicate = this.pools.get(name);
    if (duplicate) {
      this.pools.delete(name);
      void duplicate.end().catch(() => undefined);
    }
  }

  /** The pool for a database, created on first use. The primary database always gets the primary pool. */
  forDatabase(name: string): pg.Pool {
    if (name === this.primaryName) return this.primaryPool;
    let pool = this.pools.get(name);
    if (!pool) {
      if (this.closed) throw new Error('postgres connections are closed');
      pool = this.create({ database: name });
      this.pools.set(name, pool);
    }
    return pool;
  }

  /** Ends the pools of databases not in `names` (a database that was dropped or fell out of discovery). */
  async retain(names: Iterable<string>): Promise<void> {
    const keep = new Set(names);
    const gone = [...this.pools.entries()].filter(([name]) => !keep.has(name));
    for (const [name] of gone) this.pools.delete(name);
    await Promise.allSettled(gone.map(([, pool]) => pool.end()));
  }

  /** Ends one database's pool (e.g. it was dropped between discovery and use). */
  async drop(name: string): Promise<void> {
    const pool = this.pools.get(name);
    if (!pool) return;
    this.pools.delete(name);
    await pool.end().catch(() => undefined);
  }

  /** Databases that currently have their own pool (the primary excluded). */
  databases(): string[] {
    return [...this.pools.keys()].sort();
  }

  /** Connections currently open across all pools (at most one per pool). */
  get totalConnections(): number {
    let total = this.primaryPool.totalCount;
    for (const pool of this.pools.values()) total += pool.totalCount;
    return total;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [this.primaryPool, ...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((pool) => pool.end()));
  }

  private create(overrides: pg.PoolConfig): pg.Pool {
    const pool = new (pgDriver().Pool)({ ...this.base, ...overrides });
    // An idle connection that dies (server restart, pg_terminate_backend, network) is reported here; without a
    // listener it would crash the process. The pool drops the connection and the next scrape opens a new one. Not
    // logged: if PostgreSQL is really gone, the next scrape fails and the orchestrator logs that once (a restart
    // logged one line per pooled database on top of it); if it is back, nothing failed.
    pool.on('error', () => undefined);
    return pool;
  }
}
