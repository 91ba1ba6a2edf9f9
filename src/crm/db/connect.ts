import pg from 'pg';
import { CrmStartError, pgErrorCode } from '../errors.js';
import { errorMessage, type Logger } from '../log.js';
import { redactUrl } from '../redact.js';

export interface PgOptions {
  databaseUrl: string;
  poolMax: number;
  /** Create the database when it does not exist (connects to the `postgres` database to do so). */
  createDatabase: boolean;
  log: Logger;
}

export function newPool(databaseUrl: string, poolMax: number, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 35_000,
    application_name: 'crm-service',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => log('warn', `postgres idle client error: ${err.message}`));
  return pool;
}

/** A pool that has answered `SELECT 1`, or a CrmStartError that says what to do. */
export async function connectPostgres(opts: PgOptions): Promise<pg.Pool> {
  const pool = newPool(opts.databaseUrl, opts.poolMax, opts.log);
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (err) {
    await pool.end().catch(() => {});
    if (pgErrorCode(err) === '3D000' && opts.createDatabase) {
      await createDatabase(opts.databaseUrl, opts.log);
      return connectPostgres({ ...opts, createDatabase: false });
    }
    throw new CrmStartError(describePgFailure(opts.databaseUrl, err), { cause: err });
  }
}

function describePgFailure(databaseUrl: string, err: unknown): string {
  const where = redactUrl(databaseUrl);
  if (pgErrorCode(err) === '3D000') {
    return `PostgreSQL database in ${where} does not exist: create it (createdb) or start with --create-database`;
  }
  return `PostgreSQL is unreachable at ${where}: ${errorMessage(err)}. Is PostgreSQL running? Set DATABASE_URL or --database-url`;
}

async function createDatabase(databaseUrl: string, log: Logger): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
    // Identifiers cannot be bound as parameters; escapeIdentifier quotes them safely.
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE template0`);
    log('info', `created database ${name}`);
  } catch (err) {
    if (pgErrorCode(err) !== '42P04')
      throw new CrmStartError(`cannot create database ${name} in ${redactUrl(databaseUrl)}: ${errorMessage(err)}`, {
        cause: err,
      });
  } finally {
    await admin.end().catch(() => {});
  }
}
