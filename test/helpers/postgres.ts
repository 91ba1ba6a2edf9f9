import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

/*
 * Test support for the PostgreSQL collector: the shared server on 127.0.0.1:5432 (never reconfigured), a database
 * per test file, and private throw-away instances for what the shared server cannot do (preloaded
 * pg_stat_statements, password authentication, stop/start).
 */

export const SHARED_HOST = process.env.CRM_TEST_PG_HOST ?? '127.0.0.1';
export const SHARED_PORT = Number(process.env.CRM_TEST_PG_PORT ?? 5432);
export const SHARED_USER = process.env.CRM_TEST_PG_USER ?? 'postgres';
const PG_BIN = process.env.CRM_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function sharedUrl(database = 'postgres'): string {
  return `postgres://${SHARED_USER}@${SHARED_HOST}:${SHARED_PORT}/${database}`;
}

/** A client to the shared server; fails with a clear message when it is not running. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'crm-exporter-test' });
  client.on('error', () => undefined); // terminated test sessions (deadlock victims, drops) are expected
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${url.replace(/:[^:@/]*@/, '@')} (${(err as Error).message}); start it (scripts/test-deps.sh)`,
    );
  }
  return client;
}

/** The shared server's maintenance database, where test databases are created (CRM_TEST_PG_URL overrides it). */
export const PG_ADMIN_URL = process.env.CRM_TEST_PG_URL ?? sharedUrl();

export interface TestDatabase {
  name: string;
  url: string;
  /** A pool on the database (connects on first use; ended by drop()). */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * Creates crm_test_<prefix>_<random> on the server at `adminUrl` (a missing server fails with a clear message);
 * drop() ends the pool, terminates the database's sessions and drops it.
 */
export async function createTestDatabase(prefix = 'crm', adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  const name = `crm_test_${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = await connect(adminUrl);
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const base = new URL(adminUrl);
  base.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: base.toString(), max: 3 });
  pool.on('error', () => undefined);
  return {
    name,
    url: base.toString(),
    pool,
    async drop() {
      await pool.end();
      const c = await connect(adminUrl);
      try {
        await c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses a Prometheus text exposition into samples. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[m[1] as string] = (m[2] as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include every given pair. */
export function select(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample of `name` matching `labels`; undefined when absent, an error when ambiguous. */
export function value(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = select(samples, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

export interface PrivateInstance {
  port: number;
  dir: string;
  url(database?: string, user?: string, password?: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

function asPostgresUser(command: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const result = root
    ? spawnSync(
        'su',
        ['postgres', '-s', '/bin/sh', '-c', [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')],
        {
          encoding: 'utf8',
        },
      )
    : spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
}

/** The same, without blocking the event loop (a test's load generator or service keeps running meanwhile). */
function asPostgresUserAsync(command: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  const [file, argv] = root
    ? [
        'su',
        ['postgres', '-s', '/bin/sh', '-c', [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')],
      ]
    : [command, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv as string[], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command} ${args.join(' ')} failed: ${stdout}${stderr}`)) : resolve(),
    );
  });
}

/**
 * A private PostgreSQL cluster in a temporary directory on a free port (initdb runs as the postgres user when the
 * tests run as root). `settings` become -c options; `password` switches TCP authentication to scram-sha-256.
 */
export async function startPrivateInstance(
  options: { settings?: Record<string, string>; password?: string } = {},
): Promise<PrivateInstance> {
  const initdb = join(PG_BIN, 'initdb');
  const pgCtl = join(PG_BIN, 'pg_ctl');
  if (spawnSync('test', ['-x', initdb]).status !== 0)
    throw new Error(`${initdb} not found: install postgresql-15 (or set CRM_TEST_PG_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'crm-pgpriv-'));
  const root = process.getuid?.() === 0;
  if (root) execFileSync('chown', ['postgres', dir]);
  const data = join(dir, 'data');
  const initArgs = ['-D', data, '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--auth-local=trust'];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (root) chownSync(pwfile, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), -1);
    initArgs.push('--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  } else {
    initArgs.push('--auth-host=trust');
  }
  asPostgresUser(initdb, initArgs);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    max_connections: '30',
    shared_buffers: '16MB',
    ...options.settings,
  };
  const opts = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  const instance: PrivateInstance = {
    port,
    dir,
    url(database = 'postgres', user = 'postgres', password?: string) {
      return `postgres://${user}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/${database}`;
    },
    async start() {
      await asPostgresUserAsync(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', opts, 'start']);
    },
    async stop() {
      await asPostgresUserAsync(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    },
    async destroy() {
      try {
        asPostgresUser(pgCtl, ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}
