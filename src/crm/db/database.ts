import pg from 'pg';
import { timeDb, type RequestContext } from '../context.js';

export type Row = pg.QueryResultRow;

/** Something that runs parameterised SQL: the pool or a transaction's client. */
export interface SqlRunner {
  query<R extends Row = Row>(text: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

export interface RequestDb extends SqlRunner {
  /** BEGIN ... COMMIT on one pooled client, ROLLBACK when `fn` throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export interface Database {
  readonly pool: pg.Pool;
  /** A runner that adds the time spent waiting for and in PostgreSQL to `ctx.dbMs`. */
  forRequest(ctx?: RequestContext): RequestDb;
}

export function createDatabase(pool: pg.Pool): Database {
  return {
    pool,
    forRequest(ctx) {
      return {
        query: (text, params) => timeDb(ctx, () => pool.query(text, params as unknown[] | undefined)),
        async transaction(fn) {
          const client = await timeDb(ctx, () => pool.connect());
          const tx: SqlRunner = {
            query: (text, params) => timeDb(ctx, () => client.query(text, params as unknown[] | undefined)),
          };
          let broken: Error | undefined;
          // pg-pool listens for 'error' only while a client is idle: a connection that dies while checked out (a
          // PostgreSQL restart mid-transaction) would otherwise be an uncaught exception that ends the service.
          const onError = (err: Error): void => {
            broken = err;
          };
          client.on('error', onError);
          try {
            await tx.query('BEGIN');
            const result = await fn(tx);
            await tx.query('COMMIT');
            return result;
          } catch (err) {
            await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
              broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
            });
            throw err;
          } finally {
            client.removeListener('error', onError);
            client.release(broken);
          }
        },
      };
    },
  };
}
