import { lazyPackage } from '../lazy-package.js';
import type pg from 'pg';
import { PgConnectError, redactSecrets } from '../errors.js';

// node:crypto (and OpenSSL) only once a PostgreSQL query is prepared (bench/footprint.ts).
const crypto = lazyPackage<typeof import('node:crypto')>('node:crypto');

/*
 * Running the collector's queries on the pools of pg-pool.ts (I/O only; type-only use of pg, so pg itself is loaded
 * by pg-pool.ts alone): a checked-out connection per call, named prepared statements, and the errors a caller tells
 * apart by code, never by message text.
 */

/** One result row as pg returns it: column name -> value (numbers of bigint/numeric columns arrive as strings). */
export type Row = Record<string, unknown>;

/** PostgreSQL's "database does not exist" (SQLSTATE 3D000): a database dropped between discovery and connection. */
export function isMissingDatabase(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '3D000';
}

const statementNames = new Map<string, string>();

/** A stable prepared-statement name per SQL text: a different SQL (another extension version) gets its own. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `crm_exporter_${crypto().createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Runs `sql` as a named statement (prepared once per connection: the catalog views are costly to plan, and would be
 * planned again every scrape otherwise).
 */
export async function preparedQuery(client: pg.PoolClient, sql: string, params: unknown[]): Promise<Row[]> {
  const result = await client.query<Row>({ name: statementName(sql), text: sql, values: params });
  return result.rows;
}

async function checkout(pool: pg.Pool, database: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    if (isMissingDatabase(err)) throw err;
    throw new PgConnectError(database, redactSecrets(err instanceof Error ? err.message : String(err)), { cause: err });
  }
}

/**
 * Runs `fn` with a checked-out connection; a failed connection is destroyed, not returned to the pool. While
 * checked out, a connection that dies emits 'error' on the client (pg-pool only listens while it is idle): the
 * listener here keeps that from becoming an uncaught exception; the query in flight rejects on its own.
 * Rejects with a PgConnectError when no connection could be opened, or with the database's own error (code 3D000:
 * see isMissingDatabase) when it does not exist.
 */
export async function withClient<T>(
  pool: pg.Pool,
  database: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await checkout(pool, database);
  let lost: Error | undefined;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  try {
    const result = await fn(client);
    client.removeListener('error', onError);
    client.release(lost ?? false);
    return result;
  } catch (err) {
    client.removeListener('error', onError);
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}
