import { createHash } from 'node:crypto';
import type pg from 'pg';
import { migrations as defaultMigrations, type Migration } from './migrations.js';

/** Arbitrary constant: serialises concurrent start-ups migrating the same database. */
const MIGRATION_LOCK_KEY = 7_246_001;

export interface MigrationResult {
  applied: number[];
  current: number;
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 16);
}

/** Applies the migrations not yet recorded, each in its own transaction; safe to run any number of times. */
export async function migrate(pool: pg.Pool, list: readonly Migration[] = defaultMigrations): Promise<MigrationResult> {
  const client = await pool.connect();
  // Checked-out clients get no 'error' listener from pg-pool; a connection lost here rejects the query in flight.
  let lost: Error | undefined;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations',
      );
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      const applied: number[] = [];
      for (const m of [...list].sort((a, b) => a.version - b.version)) {
        const sum = checksum(m.sql);
        const previous = done.get(m.version);
        if (previous !== undefined) {
          if (previous !== sum)
            throw new Error(
              `migration ${m.version} (${m.name}) was changed after it was applied; add a new migration instead`,
            );
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            sum,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(
            `migration ${m.version} (${m.name}) failed: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          );
        }
        applied.push(m.version);
      }
      return { applied, current: Math.max(0, ...list.map((m) => m.version)) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.removeListener('error', onError);
    client.release(lost);
  }
}
