import type { Registry } from 'prom-client';
import type { PostgresConfig } from '../../config/schema.js';
import { defineFamily } from '../../exposition/family.js';
import { PgPools } from '../../sources/pg-pool.js';
import { focus, registerSnapshotFamilies, snapshotFamily, type Collector, type SnapshotFamily } from '../collector.js';
import { ACTIVITY_FAMILIES, CONNECTIONS_FAMILY, type ActivityView } from './activity.js';
import { DATABASE_FAMILIES } from './database.js';
import { gatherPostgres, type GatherSettings, type PostgresSnapshot } from './gather.js';
import { INDEX_FAMILIES } from './indexes.js';
import { MAX_CONNECTIONS_FAMILY, SERVER_INFO_FAMILIES } from './server.js';
import { STATEMENT_FAMILIES, type StatementsState } from './statements.js';
import { TABLE_FAMILIES } from './tables.js';

/*
 * The PostgreSQL collector: gather.ts reads a snapshot, each view module (server, database, activity, tables,
 * indexes, statements) holds its SQL, its row mapping and its families, and this file puts the families in
 * exposition order and serves the last successful snapshot.
 */

export const PG_UP = defineFamily({
  name: 'crm_pg_up',
  help: 'Whether the last scrape could query PostgreSQL (1) or not (0).',
  type: 'gauge',
  labelNames: [],
});

const activity = (s: PostgresSnapshot): ActivityView => ({
  databases: s.databases.map((d) => d.database),
  sessions: s.sessions,
  locks: s.locks,
});

/** Every family but crm_pg_up, in exposition order (test/golden/postgres.prom). */
export const POSTGRES_FAMILIES: readonly SnapshotFamily<PostgresSnapshot>[] = [
  ...focus(SERVER_INFO_FAMILIES, (s: PostgresSnapshot) => s.server),
  ...focus([CONNECTIONS_FAMILY], activity),
  ...focus([MAX_CONNECTIONS_FAMILY], (s: PostgresSnapshot) => s.server),
  ...focus(DATABASE_FAMILIES, (s: PostgresSnapshot) => s.databases),
  ...focus(ACTIVITY_FAMILIES, activity),
  ...focus(TABLE_FAMILIES, (s: PostgresSnapshot) => s.tables),
  ...focus(INDEX_FAMILIES, (s: PostgresSnapshot) => s.indexes),
  ...focus(STATEMENT_FAMILIES, (s: PostgresSnapshot) => s.statements),
  snapshotFamily(
    defineFamily({
      name: 'crm_pg_scrape_queries',
      help: 'SQL queries the collector issued during the last successful scrape.',
      type: 'gauge',
      labelNames: [],
    }),
    (s: PostgresSnapshot, emit) => emit(s.queries),
  ),
];

/** Registers the collector's families in `registry`, rendering `served()` at scrape time. */
export function registerPostgresFamilies(registry: Registry, served: () => PostgresSnapshot | undefined): void {
  registerSnapshotFamilies(registry, PG_UP, POSTGRES_FAMILIES, served);
}

export interface PostgresCollectorOptions {
  config: PostgresConfig;
  registry: Registry;
  /** Info and problem lines (default: stderr). Secrets are already removed. */
  log?: (line: string) => void;
}

/** Scrape-time PostgreSQL collector (see docs/metrics.md, section PostgreSQL). */
export class PostgresCollector implements Collector<PostgresSnapshot> {
  readonly name = 'postgres';
  readonly pools: PgPools;
  served: PostgresSnapshot | undefined;
  private readonly settings: GatherSettings;
  private readonly log: (line: string) => void;
  private statementsNote: string | undefined;
  private readonly missingNoted = new Set<string>();

  constructor(options: PostgresCollectorOptions) {
    const { config } = options;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    registerPostgresFamilies(options.registry, () => this.served);
    this.pools = new PgPools({ url: config.url, passwordFile: config.password_file, timeoutMs: config.timeout });
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

  async update(signal: AbortSignal): Promise<PostgresSnapshot> {
    const snapshot = await gatherPostgres(this.pools, this.settings, signal, (missing) => this.noteMissing(missing));
    signal.throwIfAborted();
    this.noteStatements(snapshot.statements);
    return snapshot;
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
