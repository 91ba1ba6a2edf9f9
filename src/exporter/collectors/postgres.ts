import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { PostgresConfig } from '../config/schema.js';
import { redactSecrets } from '../errors.js';
import { statementLabel } from '../parsers/statement-text.js';
import { PgPools } from '../sources/pg-pool.js';
import type { Collector } from './collector.js';
import {
  ACTIVITY_SQL,
  DATABASES_SQL,
  INDEXES_SQL,
  MIN_SERVER_VERSION_NUM,
  SERVER_SQL,
  statementsSql,
  TABLES_SQL,
} from './postgres-queries.js';
import {
  clearPostgresSeries,
  CONNECTION_STATES,
  createPostgresMetrics,
  DATABASE_COUNTERS,
  ROW_OPS,
  type PostgresMetrics,
} from './postgres-metrics.js';

/*
 * The PostgreSQL collector, in two steps kept apart so the golden test can feed fixed rows to the second:
 *   gatherPostgres()        I/O only: a bounded set of queries -> PostgresSnapshot (plain numbers and strings)
 *   writePostgresSnapshot() synchronous: snapshot -> metrics (every series reset, then written)
 * Queries per scrape: 3 on the primary connection (server facts, pg_stat_database, pg_stat_activity + pg_locks),
 * +1 for pg_stat_statements when enabled, and per monitored database +1 for pg_stat_user_tables and +1 for
 * pg_stat_user_indexes (each skipped when its cap is 0).
 */

export type RowOp = keyof typeof ROW_OPS;

export interface ServerFacts {
  version: string;
  versionNum: number;
  currentDatabase: string;
  inRecovery: boolean;
  /** Only meaningful on a replica; null when unknown or on a primary. */
  replicationLagSeconds: number | null;
  maxConnections: number;
}

export interface DatabaseStats {
  database: string;
  xactCommits: number;
  xactRollbacks: number;
  blocksHit: number;
  blocksRead: number;
  deadlocks: number;
  tempBytes: number;
  rows: Record<RowOp, number>;
  /** pg_database_size(); null when it could not be read this scrape (the series is then left out). */
  sizeBytes: number | null;
}

export interface SessionGroup {
  database: string;
  /** pg_stat_activity.state as PostgreSQL writes it ("idle in transaction"), or "unknown" when hidden. */
  state: string;
  sessions: number;
  blocked: number;
  longestTransactionSeconds: number;
}

export interface LockGroup {
  database: string;
  mode: string;
  granted: boolean;
  locks: number;
}

export interface TableStats {
  database: string;
  schema: string;
  table: string;
  seqScans: number;
  seqRowsRead: number;
  indexScans: number;
  liveRows: number;
  deadRows: number;
  sizeBytes: number;
  /** Unix seconds, 0 when never autovacuumed. */
  lastAutovacuum: number;
}

export interface IndexStats {
  database: string;
  schema: string;
  table: string;
  index: string;
  scans: number;
  sizeBytes: number;
}

export interface StatementStats {
  database: string;
  queryid: string;
  calls: number;
  seconds: number;
  rows: number;
  query: string;
}

/** Why top statements are or are not collected; the collector logs each change once. */
export type StatementsState =
  { enabled: true } | { enabled: false; reason: 'config' | 'not-installed' | 'not-loaded'; database: string };

export interface PostgresSnapshot {
  server: ServerFacts;
  /** The monitored databases (in order) with their pg_stat_database row. */
  databases: DatabaseStats[];
  sessions: SessionGroup[];
  locks: LockGroup[];
  tables: TableStats[];
  indexes: IndexStats[];
  statements: StatementsState & { rows: StatementStats[] };
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

type Row = Record<string, unknown>;

function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** PostgreSQL's "database does not exist": a database dropped between discovery and connection. */
function isMissingDatabase(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '3D000';
}

const statementNames = new Map<string, string>();

/** A stable prepared-statement name per SQL text. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `crm_exporter_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

function describe(err: unknown): string {
  return redactSecrets(err instanceof Error ? err.message : String(err));
}

async function checkout(pool: pg.Pool, database: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    if (isMissingDatabase(err)) throw err;
    throw new Error(`cannot connect to database "${database}": ${describe(err)}`, { cause: err });
  }
}

/**
 * Runs `fn` with a checked-out connection; a failed connection is destroyed, not returned to the pool. While
 * checked out, a connection that dies emits 'error' on the client (pg-pool only listens while it is idle): the
 * listener here keeps that from becoming an uncaught exception; the query in flight rejects on its own.
 */
async function withClient<T>(pool: pg.Pool, database: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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

function parseServer(
  row: Row | undefined,
): ServerFacts & { pgssVersion: string | null; pgssSchema: string | null; pgssLoaded: boolean } {
  if (!row) throw new Error('server query returned no row');
  return {
    version: str(row.version),
    versionNum: num(row.version_num),
    currentDatabase: str(row.current_database),
    inRecovery: row.in_recovery === true,
    replicationLagSeconds:
      row.replication_lag_seconds === null || row.replication_lag_seconds === undefined
        ? null
        : num(row.replication_lag_seconds),
    maxConnections: num(row.max_connections),
    pgssVersion: row.pgss_version === null || row.pgss_version === undefined ? null : str(row.pgss_version),
    pgssSchema: row.pgss_schema === null || row.pgss_schema === undefined ? null : str(row.pgss_schema),
    pgssLoaded: row.pgss_loaded === true,
  };
}

function parseDatabase(row: Row): DatabaseStats {
  return {
    database: str(row.database),
    xactCommits: num(row.xact_commit),
    xactRollbacks: num(row.xact_rollback),
    blocksHit: num(row.blks_hit),
    blocksRead: num(row.blks_read),
    deadlocks: num(row.deadlocks),
    tempBytes: num(row.temp_bytes),
    rows: {
      returned: num(row.tup_returned),
      fetched: num(row.tup_fetched),
      inserted: num(row.tup_inserted),
      updated: num(row.tup_updated),
      deleted: num(row.tup_deleted),
    },
    sizeBytes: row.size_bytes === null || row.size_bytes === undefined ? null : num(row.size_bytes),
  };
}

function parseActivity(row: Row | undefined): { sessions: SessionGroup[]; locks: LockGroup[] } {
  const sessions = Array.isArray(row?.sessions) ? (row.sessions as Row[]) : [];
  const locks = Array.isArray(row?.locks) ? (row.locks as Row[]) : [];
  return {
    sessions: sessions.map((s) => ({
      database: str(s.database),
      state: str(s.state),
      sessions: num(s.sessions),
      blocked: num(s.blocked),
      longestTransactionSeconds: num(s.longest_xact),
    })),
    locks: locks.map((l) => ({
      database: str(l.database),
      mode: str(l.mode),
      granted: l.granted === true,
      locks: num(l.locks),
    })),
  };
}

/**
 * Gathers one snapshot. Never issues a query once `signal` is aborted; a query already in flight ends by the
 * server's statement_timeout (or the client read timeout), holding at most the one connection of its database.
 * `log` receives notes about configured databases that are missing.
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
    // Named (prepared once per connection): the catalog views are costly to plan, and planned again every scrape
    // otherwise. The name follows the text, so a different SQL (another extension version) gets its own.
    const result = await client.query<Row>({ name: statementName(sql), text: sql, values: params });
    return result.rows;
  };

  const tables: TableStats[] = [];
  const indexes: IndexStats[] = [];
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
      for (const r of await run(client, TABLES_SQL, [settings.maxTables, sizeDue(database)])) {
        if (r.database_size !== null && r.database_size !== undefined) sizes.set(database, num(r.database_size));
        if (r.table === null || r.table === undefined) continue; // no user tables: the size-only row
        tables.push({
          database,
          schema: str(r.schema),
          table: str(r.table),
          seqScans: num(r.seq_scan),
          seqRowsRead: num(r.seq_tup_read),
          indexScans: num(r.idx_scan),
          liveRows: num(r.n_live_tup),
          deadRows: num(r.n_dead_tup),
          sizeBytes: num(r.size_bytes),
          lastAutovacuum: num(r.last_autovacuum),
        });
      }
    }
    if (settings.maxIndexes > 0) {
      for (const r of await run(client, INDEXES_SQL, [settings.maxIndexes])) {
        indexes.push({
          database,
          schema: str(r.schema),
          table: str(r.table),
          index: str(r.index),
          scans: num(r.idx_scan),
          sizeBytes: num(r.size_bytes),
        });
      }
    }
  };
  const wantsPerDatabase = settings.maxTables > 0 || settings.maxIndexes > 0;

  const primaryPool = pools.primary();
  let otherDatabases: string[] = [];
  let otherErrors: unknown[] = [];
  const snapshot = await withClient(
    primaryPool,
    pools.primaryLabel,
    async (primary): Promise<Omit<PostgresSnapshot, 'tables' | 'indexes' | 'queries'>> => {
      const facts = parseServer((await run(primary, SERVER_SQL, []))[0]);
      if (facts.versionNum < MIN_SERVER_VERSION_NUM) {
        throw new Error(`PostgreSQL ${facts.version} is not supported (13 or newer is required)`);
      }
      pools.setPrimaryName(facts.currentDatabase);

      const list = settings.databases === 'auto' ? null : [...settings.databases];
      const cap = list === null ? settings.maxDatabases : list.length;
      const databases = (await run(primary, DATABASES_SQL, [list, cap, !(settings.maxTables > 0)])).map(parseDatabase);
      const names = databases.map((d) => d.database);
      if (list !== null) onMissingDatabases(list.filter((name) => !names.includes(name)));

      // Other databases' tables and indexes run on their own connections while the primary connection continues.
      otherDatabases = wantsPerDatabase ? names.filter((name) => name !== facts.currentDatabase) : [];
      const others = eachLimited(otherDatabases, settings.parallelism ?? 4, async (database) => {
        try {
          await withClient(pools.forDatabase(database), database, (client) => perDatabase(client, database));
        } catch (err) {
          if (isMissingDatabase(err)) {
            await pools.drop(database); // dropped since discovery: skipped this time
            return;
          }
          if (err instanceof Error && err.message.startsWith('cannot connect')) throw err;
          throw new Error(`database "${database}": ${describe(err)}`, { cause: err });
        }
      });

      try {
        const activity = parseActivity((await run(primary, ACTIVITY_SQL, [names]))[0]);

        let statements: PostgresSnapshot['statements'];
        const sc = settings.statements;
        if (!sc.enabled) statements = { enabled: false, reason: 'config', database: facts.currentDatabase, rows: [] };
        else if (facts.pgssVersion === null || facts.pgssSchema === null) {
          statements = { enabled: false, reason: 'not-installed', database: facts.currentDatabase, rows: [] };
        } else if (!facts.pgssLoaded)
          statements = { enabled: false, reason: 'not-loaded', database: facts.currentDatabase, rows: [] };
        else {
          const rows = await run(primary, statementsSql(facts.pgssVersion, facts.pgssSchema), [
            names,
            sc.limit,
            statementFetchLength(sc.queryLength),
          ]);
          statements = {
            enabled: true,
            rows: rows.map((r) => ({
              database: str(r.database),
              queryid: str(r.queryid),
              calls: num(r.calls),
              seconds: num(r.seconds),
              rows: num(r.rows),
              query: str(r.query),
            })),
          };
        }

        if (wantsPerDatabase && names.includes(facts.currentDatabase))
          await perDatabase(primary, facts.currentDatabase);
        const { pgssVersion: _v, pgssSchema: _s, pgssLoaded: _l, ...server } = facts;
        return { server, databases, sessions: activity.sessions, locks: activity.locks, statements };
      } finally {
        // Never release the primary connection (or return) while other databases are still being read.
        otherErrors = await others;
      }
    },
  );
  if (otherErrors.length > 0) throw otherErrors[0];
  for (const d of snapshot.databases) {
    if (d.sizeBytes !== null) sizes.set(d.database, d.sizeBytes); // read by the pg_stat_database query
    d.sizeBytes = sizes.get(d.database) ?? cache?.get(d.database)?.bytes ?? null;
  }
  if (cache) {
    for (const [database, bytes] of sizes) cache.set(database, { bytes, at: started });
    const monitored = new Set(snapshot.databases.map((d) => d.database));
    for (const database of cache.keys()) if (!monitored.has(database)) cache.delete(database);
  }
  // Largest first, ties by name, whichever query read the sizes.
  snapshot.databases.sort(
    (a, b) =>
      (b.sizeBytes ?? -1) - (a.sizeBytes ?? -1) || (a.database < b.database ? -1 : a.database > b.database ? 1 : 0),
  );

  // Pools of databases no longer monitored (dropped, renamed, out of the top max_databases) are closed.
  void pools.retain(otherDatabases).catch(() => undefined);
  return { ...snapshot, tables, indexes, queries };
}

/**
 * Characters of statement text to fetch for a `query_length` label: redaction shortens the text (literals become
 * `?`, comments go), so more is read than is shown.
 */
export function statementFetchLength(queryLength: number): number {
  return 2 * queryLength + 256;
}

/** "idle in transaction (aborted)" -> "idle_in_transaction_aborted": label values without spaces. */
export function stateLabel(state: string): string {
  return state.replace(/[()]/g, '').trim().replace(/\s+/g, '_');
}

/** Every series the collector owns is removed and crm_pg_up is set to 0 (the Collector reset() contract). */
export function clearPostgresMetrics(m: PostgresMetrics): void {
  clearPostgresSeries(m);
  m.up.set(0);
}

/**
 * Writes a snapshot in one synchronous step. Every labelled metric is reset first, so series of databases,
 * tables, indexes and statements that are no longer in the snapshot disappear. Counters are set to PostgreSQL's
 * cumulative value (reset + inc), so a statistics reset in PostgreSQL reads as an ordinary counter reset.
 */
export function writePostgresSnapshot(m: PostgresMetrics, s: PostgresSnapshot, queryLength: number): void {
  clearPostgresSeries(m);

  m.up.set(1);
  m.serverInfo.set({ version: s.server.version }, 1);
  m.inRecovery.set(s.server.inRecovery ? 1 : 0);
  if (s.server.inRecovery && s.server.replicationLagSeconds !== null)
    m.replicationLag.set(s.server.replicationLagSeconds);
  m.maxConnections.set(s.server.maxConnections);

  const monitored = new Set(s.databases.map((d) => d.database));
  for (const d of s.databases) {
    const database = d.database;
    for (const key of Object.keys(DATABASE_COUNTERS) as Array<keyof typeof DATABASE_COUNTERS>)
      m[key].inc({ database }, d[key]);
    for (const op of Object.keys(ROW_OPS) as RowOp[]) m.rows.inc({ database, op }, d.rows[op]);
    if (d.sizeBytes !== null) m.databaseSize.set({ database }, d.sizeBytes);
    for (const state of CONNECTION_STATES) m.connections.set({ database, state }, 0);
    m.blockedSessions.set({ database }, 0);
    m.longestTransaction.set({ database }, 0);
  }

  const longest = new Map<string, number>();
  const blocked = new Map<string, number>();
  for (const g of s.sessions) {
    if (!monitored.has(g.database)) continue;
    m.connections.inc({ database: g.database, state: stateLabel(g.state) }, g.sessions);
    blocked.set(g.database, (blocked.get(g.database) ?? 0) + g.blocked);
    longest.set(g.database, Math.max(longest.get(g.database) ?? 0, g.longestTransactionSeconds));
  }
  for (const [database, n] of blocked) m.blockedSessions.set({ database }, n);
  for (const [database, seconds] of longest) m.longestTransaction.set({ database }, seconds);

  for (const l of s.locks) {
    if (!monitored.has(l.database)) continue;
    m.locks.inc({ database: l.database, mode: l.mode, granted: l.granted ? 'true' : 'false' }, l.locks);
  }

  for (const t of s.tables) {
    const labels = { database: t.database, schema: t.schema, table: t.table };
    m.tableSeqScans.inc(labels, t.seqScans);
    m.tableSeqRowsRead.inc(labels, t.seqRowsRead);
    m.tableIndexScans.inc(labels, t.indexScans);
    m.tableLiveRows.set(labels, t.liveRows);
    m.tableDeadRows.set(labels, t.deadRows);
    m.tableSize.set(labels, t.sizeBytes);
    m.tableLastAutovacuum.set(labels, t.lastAutovacuum);
  }

  for (const i of s.indexes) {
    const labels = { database: i.database, schema: i.schema, table: i.table, index: i.index };
    m.indexScans.inc(labels, i.scans);
    m.indexSize.set(labels, i.sizeBytes);
  }

  m.statementsEnabled.set(s.statements.enabled ? 1 : 0);
  for (const st of s.statements.rows) {
    // The server query already leaves these out; a text that still is not exportable loses every series here.
    const query = statementLabel(st.query, queryLength);
    if (query === undefined) continue;
    const labels = { database: st.database, queryid: st.queryid };
    m.statementCalls.inc(labels, st.calls);
    m.statementSeconds.inc(labels, st.seconds);
    m.statementRows.inc(labels, st.rows);
    m.statementInfo.set({ ...labels, query }, 1);
  }

  m.scrapeQueries.set(s.queries);
}

export interface PostgresCollectorOptions {
  config: PostgresConfig;
  registry: Registry;
  /** Info and problem lines (default: stderr). Secrets are already removed. */
  log?: (line: string) => void;
}

/** Scrape-time PostgreSQL collector (see docs/metrics.md, section PostgreSQL). */
export class PostgresCollector implements Collector {
  readonly name = 'postgres';
  readonly pools: PgPools;
  private readonly metrics: PostgresMetrics;
  private readonly settings: GatherSettings;
  private readonly queryLength: number;
  private readonly log: (line: string) => void;
  private statementsNote: string | undefined;
  private readonly missingNoted = new Set<string>();
  /** Queries issued by the last successful update (also served as crm_pg_scrape_queries). */
  lastQueryCount = 0;

  constructor(options: PostgresCollectorOptions) {
    const { config } = options;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.metrics = createPostgresMetrics(options.registry);
    clearPostgresMetrics(this.metrics);
    this.pools = new PgPools({
      url: config.url,
      passwordFile: config.password_file,
      timeoutMs: config.timeout,
    });
    this.queryLength = config.statements.query_length;
    this.settings = {
      databases: config.databases,
      maxDatabases: config.max_databases,
      maxTables: config.max_tables,
      maxIndexes: config.max_indexes,
      statements: {
        enabled: config.statements.enabled,
        limit: config.statements.limit,
        queryLength: config.statements.query_length,
      },
      sizeCache: new Map(),
      sizeIntervalMs: config.database_size_interval,
    };
  }

  async update(signal: AbortSignal): Promise<void> {
    const snapshot = await gatherPostgres(this.pools, this.settings, signal, (missing) => this.noteMissing(missing));
    signal.throwIfAborted();
    writePostgresSnapshot(this.metrics, snapshot, this.queryLength);
    this.lastQueryCount = snapshot.queries;
    this.noteStatements(snapshot.statements);
  }

  reset(): void {
    clearPostgresMetrics(this.metrics);
  }

  async close(): Promise<void> {
    await this.pools.close();
  }

  private noteStatements(state: StatementsState): void {
    let note: string;
    if (state.enabled) note = 'postgres: pg_stat_statements found; collecting top statements';
    else if (state.reason === 'config') note = '';
    else if (state.reason === 'not-installed') {
      note = `postgres: pg_stat_statements is not installed in database "${state.database}" (CREATE EXTENSION pg_stat_statements there); crm_pg_statements_enabled is 0`;
    } else {
      note = `postgres: pg_stat_statements is installed but not in shared_preload_libraries; crm_pg_statements_enabled is 0`;
    }
    // One line per change, not one per scrape; a start with statements available is not worth a line.
    if (note === this.statementsNote) return;
    const first = this.statementsNote === undefined;
    this.statementsNote = note;
    if (note !== '' && !(state.enabled && first)) this.log(note);
  }

  private noteMissing(missing: string[]): void {
    for (const name of missing) {
      if (!this.missingNoted.has(name))
        this.log(`postgres: configured database "${name}" does not exist or does not accept connections; skipped`);
    }
    this.missingNoted.clear();
    for (const name of missing) this.missingNoted.add(name);
  }
}
