import type { Row } from '../../sources/pg-query.js';
import { seriesFamily, type Series } from '../collector.js';
import { name, stat } from './row.js';

/* pg_stat_activity and pg_locks (read in one query): the SQL, its rows, the mapping and the families. */

/**
 * pg_stat_activity and pg_locks in one query (the activity view is read once and joined to the locks).
 * $1 text[]: monitored databases. Sessions are client backends; locks are those of any backend of a monitored
 * database (autovacuum included), attributed to the backend's database so transactionid/virtualxid locks count.
 * The exporter's own backend is left out of the locks and of the longest transaction.
 */
export const ACTIVITY_SQL = `
WITH a AS MATERIALIZED (
  SELECT pid, datname, backend_type, state, wait_event_type, xact_start
  FROM pg_stat_activity
  WHERE datname = ANY ($1::text[])
)
SELECT
  (SELECT coalesce(json_agg(x), '[]'::json) FROM (
     SELECT datname AS database, coalesce(state, 'unknown') AS state, count(*) AS sessions,
            count(*) FILTER (WHERE wait_event_type = 'Lock') AS blocked,
            coalesce(max(greatest(0, extract(epoch FROM now() - xact_start))) FILTER (WHERE pid <> pg_backend_pid()), 0)::float8 AS longest_xact
     FROM a
     WHERE backend_type = 'client backend'
     GROUP BY datname, state) x) AS sessions,
  (SELECT coalesce(json_agg(y), '[]'::json) FROM (
     SELECT a.datname AS database, l.mode, l.granted, count(*) AS locks
     FROM pg_locks l
     JOIN a ON a.pid = l.pid
     WHERE l.pid <> pg_backend_pid()
     GROUP BY a.datname, l.mode, l.granted) y) AS locks`;

/** One group of client sessions: pg_stat_activity rows of one database in one state. */
export interface SessionRow {
  database: string;
  /** pg_stat_activity.state as PostgreSQL writes it ("idle in transaction"), or "unknown" when hidden (NULL). */
  state: string;
  sessions: number;
  blocked: number;
  longest_xact: number;
}

export interface LockRow {
  database: string;
  mode: string;
  granted: boolean;
  locks: number;
}

/**
 * ACTIVITY_SQL's one row (two JSON arrays). A group with a NULL database or lock mode is skipped (row.ts); a NULL
 * state is "unknown", as the SQL already writes it.
 */
export function mapActivityRow(row: Row | undefined): { sessions: SessionRow[]; locks: LockRow[] } {
  const sessions: SessionRow[] = [];
  const locks: LockRow[] = [];
  for (const s of Array.isArray(row?.sessions) ? (row.sessions as Row[]) : []) {
    const database = name(s.database);
    if (database === undefined) continue;
    sessions.push({
      database,
      state: name(s.state) ?? 'unknown',
      sessions: stat(s.sessions),
      blocked: stat(s.blocked),
      longest_xact: stat(s.longest_xact),
    });
  }
  for (const l of Array.isArray(row?.locks) ? (row.locks as Row[]) : []) {
    const database = name(l.database);
    const mode = name(l.mode);
    if (database === undefined || mode === undefined) continue;
    locks.push({ database, mode, granted: l.granted === true, locks: stat(l.locks) });
  }
  return { sessions, locks };
}

/** The activity of the monitored databases (groups of other databases are not served). */
export interface ActivityView {
  readonly databases: readonly string[];
  readonly sessions: readonly SessionRow[];
  readonly locks: readonly LockRow[];
}

/** Session states always exported (0 when none); others (fastpath function call, disabled, unknown) when seen. */
export const CONNECTION_STATES = ['active', 'idle', 'idle_in_transaction', 'idle_in_transaction_aborted'] as const;

/** "idle in transaction (aborted)" -> "idle_in_transaction_aborted": label values without spaces. */
export function stateLabel(state: string): string {
  return state.replace(/[()]/g, '').trim().replace(/\s+/g, '_');
}

function* monitored<T extends { database: string }>(v: ActivityView, rows: readonly T[]): Iterable<T> {
  const databases = new Set(v.databases);
  for (const r of rows) if (databases.has(r.database)) yield r;
}

/** Every monitored database has its four usual states (0 when none), then any other state seen, in order. */
export function* connectionSeries(v: ActivityView): Iterable<Series> {
  for (const database of v.databases) for (const state of CONNECTION_STATES) yield [[database, state], 0];
  for (const s of monitored(v, v.sessions)) yield [[s.database, stateLabel(s.state)], s.sessions];
}

/** One sample per monitored database (0 when it has no session), then its session groups (summed or maximum). */
function* perDatabase(v: ActivityView, value: (s: SessionRow) => number): Iterable<Series> {
  for (const database of v.databases) yield [[database], 0];
  for (const s of monitored(v, v.sessions)) yield [[s.database], value(s)];
}

const sum = (a: number, b: number): number => a + b;

export const CONNECTIONS_FAMILY = seriesFamily(
  {
    name: 'crm_pg_connections',
    help: 'Client sessions by state (pg_stat_activity.state, client backends).',
    type: 'gauge',
    labelNames: ['database', 'state'],
  },
  connectionSeries,
  sum,
);

export const ACTIVITY_FAMILIES = [
  seriesFamily(
    {
      name: 'crm_pg_locks',
      help: 'Locks held or awaited by backends of the database (pg_locks.mode, pg_locks.granted).',
      type: 'gauge',
      labelNames: ['database', 'mode', 'granted'],
    },
    function* (v: ActivityView): Iterable<Series> {
      for (const l of monitored(v, v.locks)) yield [[l.database, l.mode, l.granted ? 'true' : 'false'], l.locks];
    },
    sum,
  ),
  seriesFamily(
    {
      name: 'crm_pg_blocked_sessions',
      help: 'Client sessions waiting for a lock (pg_stat_activity.wait_event_type = Lock).',
      type: 'gauge',
      labelNames: ['database'],
    },
    (v: ActivityView) => perDatabase(v, (s) => s.blocked),
    sum,
  ),
  seriesFamily(
    {
      name: 'crm_pg_longest_transaction_seconds',
      help: 'Age of the oldest open transaction, 0 when none (now() - pg_stat_activity.xact_start).',
      type: 'gauge',
      labelNames: ['database'],
      unit: 'seconds',
    },
    (v: ActivityView) => perDatabase(v, (s) => s.longest_xact),
    Math.max,
  ),
];
