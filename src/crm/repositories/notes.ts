import type { SqlRunner } from '../db/database.js';

export interface Note {
  id: number;
  customer_id: number;
  body: string;
  created_at: string;
}

interface NoteRow {
  id: string;
  customer_id: string;
  body: string;
  created_at: Date;
}

function toNote(row: NoteRow): Note {
  return {
    id: Number(row.id),
    customer_id: Number(row.customer_id),
    body: row.body,
    created_at: row.created_at.toISOString(),
  };
}

/** Throws PostgreSQL's foreign-key violation (23503) when the customer does not exist. */
export async function insertNote(db: SqlRunner, customerId: number, body: string): Promise<Note> {
  const { rows } = await db.query<NoteRow>(
    'INSERT INTO notes (customer_id, body) VALUES ($1, $2) RETURNING id, customer_id, body, created_at',
    [customerId, body],
  );
  return toNote(rows[0]!);
}

/** Newest first, keyset on id (notes_customer_idx). */
export async function listNotes(
  db: SqlRunner,
  customerId: number,
  limit: number,
  beforeId?: number,
): Promise<{ items: Note[]; next: number | null }> {
  const { rows } = await db.query<NoteRow>(
    `SELECT id, customer_id, body, created_at FROM notes
      WHERE customer_id = $1 AND id < $2
      ORDER BY id DESC
      LIMIT $3`,
    [customerId, beforeId ?? Number.MAX_SAFE_INTEGER, limit + 1],
  );
  const items = rows.slice(0, limit).map(toNote);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? last.id : null };
}
