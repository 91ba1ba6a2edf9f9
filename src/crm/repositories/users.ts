import type { SqlRunner } from '../db/database.js';

/** What the API shows of a user: never the hash. */
export interface PublicUser {
  id: number;
  email: string;
  updated_at: string;
}

interface UserRow {
  id: string;
  email: string;
  updated_at: Date;
}

function toUser(row: UserRow): PublicUser {
  return { id: Number(row.id), email: row.email, updated_at: row.updated_at.toISOString() };
}

export async function insertUser(db: SqlRunner, email: string, passwordHash: string): Promise<PublicUser> {
  const { rows } = await db.query<UserRow>(
    'INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, email, updated_at',
    [email, passwordHash],
  );
  return toUser(rows[0]!);
}

export async function findUser(db: SqlRunner, id: number): Promise<PublicUser | null> {
  const { rows } = await db.query<UserRow>('SELECT id, email, updated_at FROM users WHERE id = $1', [id]);
  return rows[0] ? toUser(rows[0]) : null;
}

/**
 * Starts a password change: claims the user's next fencing token (null when the user does not exist). A later
 * claim supersedes this one, whoever holds the Redis lock by then.
 */
export async function claimPasswordFence(db: SqlRunner, id: number): Promise<number | null> {
  const { rows } = await db.query<{ fence: string }>(
    'UPDATE users SET password_fence = password_fence + 1 WHERE id = $1 RETURNING password_fence AS fence',
    [id],
  );
  return rows[0] ? Number(rows[0].fence) : null;
}

/**
 * Writes the hash only while `fence` is still the user's latest claim: the ownership check and the write are one
 * statement, so no later change can slip in between. `superseded` when another change claimed the user since.
 */
export async function setPasswordHash(
  db: SqlRunner,
  id: number,
  passwordHash: string,
  fence: number,
): Promise<PublicUser | 'superseded' | null> {
  const { rows } = await db.query<UserRow>(
    'UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 AND password_fence = $3 RETURNING id, email, updated_at',
    [id, passwordHash, fence],
  );
  if (rows[0]) return toUser(rows[0]);
  // Nothing written; only telling the two reasons apart, so this read need not be atomic with the update.
  const { rowCount } = await db.query('SELECT 1 FROM users WHERE id = $1', [id]);
  return rowCount === 1 ? 'superseded' : null;
}
