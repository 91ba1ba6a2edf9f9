import type pg from 'pg';
import { PgConnectError, redactSecrets } from '../../errors.js';
import type { PgPools } from '../../sources/pg-pool.js';
import { isMissingDatabase, preparedQuery, withClient, type Row } from '../../sources/pg-query.js';
import { mapActivityRow, ACTIVITY_SQL, type LockRow, type SessionRow } from './activity.js';
import { DATABASES_SQL, mapDatabaseRow, type DatabaseRow } from './database.js';
import { INDEXES_SQL, mapIndexRows, type IndexRow } from './indexes.js';
import { mapServerRow, MIN_SERVER_VERSION_NUM, SERVER_SQL, type ServerRow } from './server.js';
import { mapStatementRow, statementFetchLength, statementsSql, type StatementsView } from './statements.js';
import { mapTableRows, TABLES_SQL, type TableRow } from './tables.js';

/*
 * The I/O of the PostgreSQL collector: a bounded set of queries -> PostgresSnapshot (plain data, each view's rows
 * mapped by that view's module). Queries per scrape: 3 on the primary connection (server facts, pg_stat_database,
 * pg_stat_activity + pg_locks), +1 for pg_stat_statements when enabled, and per monitored database +1 for
 * pg_stat_user_tables and +1 for pg_stat_user_indexes (each skipped when its cap is 0).
 */

export interface PostgresSnapshot {
  server: ServerRow;
  /** The monitored databases (largest first) with their pg_stat_database row. */
  databases: DatabaseRow[];
  sessions: SessionRow[];
  locks: LockRow[];
  tables: TableRow[];
  indexes: IndexRow[];
  statements: StatementsView;
  /** SQL queries issued to gather this snapshot. */
  queries: number;
}

export interface GatherSettings {
  databases: 'auto' | readonly string[];
  maxDatabases: number;
  maxTables: number;
  maxIndexes: number;
  statements: { enabled: boolean; limit: number; queryLength: number };
  /** Databases queried in parallel for their tables and indexes (each on its own single connection). */
  parallelism?: number;
  /**
   * pg_database_size() results kept between scrapes (database -> bytes and when read, ms), and for how long they
   * are reused; without a cache (or with 0 ms) every size is read every scrape.
   */
  sizeCache?: Map<string, { bytes: number; at: number }>;
  sizeIntervalMs?: number;
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return errors;
}

/**
 * Gathers one snapshot. Never issues a query once `signal` is aborted; a query already in flight ends by the
 * server's statement_timeout (or the client read timeout), holding at most the one connection of its database.
 * `onMissingDatabases` receives the configured databases that are missing.
 */
export async function gatherPostgres(
  pools: PgPools,
  settings: GatherSettings,
  signal: AbortSignal,
  onMissingDatabases: (names: string[]) => void = () => undefined,
): Promise<PostgresSnapshot> {
  let queries = 0;
  const run = async (client: pg.PoolClient, sql: string, params: unknown[]): Promise<Row[]> => {
    signal.throwIfAborted();
    queries += 1;
    return preparedQuery(client, sql, params);
  };

  const tables: TableRow[] = [];
  const indexes: IndexRow[] = [];
  // Database sizes read by TABLES_SQL on each database's own connection (see DATABASES_SQL).
  const sizes = new Map<string, number>();
  const cache = settings.sizeCache;
  const interval = settings.sizeIntervalMs ?? 0;
  const started = Date.now();
  const sizeDue = (database: string): boolean => {
    const cached = cache?.get(database);
    return !cached || interval <= 0 || started - cached.at >= interval;
  };
  const perDatabase = async (client: pg.PoolClient, database: string): Promise<void> => {
    if (settings.maxTables > 0) {
      const mapped = mapTableRows(database, await run(client, TABLES_SQL, [settings.maxTables, sizeDue(database)]));
      if (mapped.databaseSize !== null) sizes.set(database, mapped.databaseSize);
      tables.push(...mapped.tables);
    }
    if (settings.maxIndexes > 0)
      indexes.push(...mapIndexRows(database, await run(client, INDEXES_SQL, [settings.maxIndexes])));
  };
  const wantsPerDatabase = settings.maxTables > 0 || settings.maxIndexes > 0;

  let otherDatabases: string[] = [];
  let otherErrors: unknown[] = [];
  const snapshot = await withClient(
    pools.primary(),
    pools.primaryLabel,
    async (primary): Promise<Omit<PostgresSnapshot, 'tables' | 'indexes' | 'queries'>> => {
      const { pgss_version, pgss_schema, pgss_loaded, ...server } = mapServerRow(
        (await run(primary, SERVER_SQL, []))[0],
      );
      if (server.version_num < MIN_SERVER_VERSION_NUM) {
        throw new Error(`PostgreSQL ${server.version} is not supported (13 or newer is required)`);
      }
      pools.setPrimaryName(server.current_database);

      const list = settings.databases === 'auto' ? null : [...settings.databases];
      const cap = list === null ? settings.maxDatabases : list.length;
      const databases = (await run(primary, DATABASES_SQL, [list, cap, !(settings.maxTables > 0)]))
        .map(mapDatabaseRow)
        .filter((d): d is DatabaseRow => d !== undefined);
      const names = databases.map((d) => d.database);
      if (list !== null) onMissingDatabases(list.filter((name) => !names.includes(name)));

      // Other databases' tables and indexes run on their own connections while the primary connection continues.
      otherDatabases = wantsPerDatabase ? names.filter((name) => name !== server.current_database) : [];
      const others = eachLimited(otherDatabases, settings.parallelism ?? 4, async (database) => {
        try {
          await withClient(pools.forDatabase(database), database, (client) => perDatabase(client, database));
        } catch (err) {
          if (isMissingDatabase(err)) {
            await pools.drop(database); // dropped since discovery: skipped this time
            return;
          }
          if (err instanceof PgConnectError) throw err;
          throw new Error(
            `database "${database}": ${redactSecrets(err instanceof Error ? err.message : String(err))}`,
            { cause: err },
          );
        }
      });

      try {
        const activity = mapActivityRow((await run(primary, ACTIVITY_SQL, [names]))[0]);

        let statements: StatementsView;
        const sc = settings.statements;
        const database = server.current_database;
        if (!sc.enabled) statements = { enabled: false, reason: 'config', database, rows: [] };
        else if (pgss_version === null || pgss_schema === null)
          statements = { enabled: false, reason: 'not-installed', database, rows: [] };
        else if (!pgss_loaded) statements = { enabled: false, reason: 'not-loaded', database, rows: [] };
        else {
          const rows = await run(primary, statementsSql(pgss_version, pgss_schema), [
            names,
            sc.limit,
            statementFetchLength(sc.queryLength),
          ]);
          statements = {
            enabled: true,
            rows: rows.flatMap((r) => mapStatementRow(r, sc.queryLength) ?? []),
          };
        }

        if (wantsPerDatabase && names.includes(database)) await perDatabase(primary, database);
        return { server, databases, sessions: activity.sessions, locks: activity.locks, statements };
      } finally {
        // Never release the primary connection (or return) while other databases are still being read.
        otherErrors = await others;
      }
    },
  );
  if (otherErrors.length > 0) throw otherErrors[0];
  for (const d of snapshot.databases) {
    if (d.size_bytes !== null) sizes.set(d.database, d.size_bytes); // read by the pg_stat_database query
    d.size_bytes = sizes.get(d.database) ?? cache?.get(d.database)?.bytes ?? null;
  }
  if (cache) {
    for (const [database, bytes] of sizes) cache.set(database, { bytes, at: started });
    const monitored = new Set(snapshot.databases.map((d) => d.database));
    for (const database of cache.keys()) if (!monitored.has(database)) cache.delete(database);
  }
  // Largest first, ties by name, whichever query read the sizes.
  snapshot.databases.sort(
    (a, b) =>
      (b.size_bytes ?? -1) - (a.size_bytes ?? -1) || (a.database < b.database ? -1 : a.database > b.database ? 1 : 0),
  );

  // Pools of databases no longer monitored (dropped, renamed, out of the top max_databases) are closed.
  void pools.retain(otherDatabases).catch(() => undefined);
  return { ...snapshot, tables, indexes, queries };
}
