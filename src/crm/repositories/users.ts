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
  const { rows } = await db.query<UserRow>('INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id, email, updated_at', [email, passwordHash]);
  return toUser(rows[0]!);
}

export async function findUser(db: SqlRunner, id: number): Promise<PublicUser | null> {
  const { rows } = await db.query<UserRow>('SELECT id, email, updated_at FROM users WHERE id = $1', [id]);
  return rows[0] ? toUser(rows[0]) : null;
}

export async function userExists(db: SqlRunner, id: number): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM users WHERE id = $1', [id]);
  return rowCount === 1;
}

export async function setPasswordHash(db: SqlRunner, id: number, passwordHash: string): Promise<PublicUser | null> {
  const { rows } = await db.query<UserRow>(
    'UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 RETURNING id, email, updated_at',
    [id, passwordHash],
  );
  return rows[0] ? toUser(rows[0]) : null;
}
