import type { SqlRunner } from '../db/database.js';

export interface Customer {
  id: number;
  name: string;
  email: string;
  age: number;
  points: number;
  created_at: string;
  updated_at: string;
}

interface CustomerRow {
  id: string;
  name: string;
  email: string;
  age: number;
  points: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, email, age, points, created_at, updated_at';

function toCustomer(row: CustomerRow): Customer {
  return {
    id: Number(row.id),
    name: row.name,
    email: row.email,
    age: row.age,
    points: row.points,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface NewCustomer {
  name: string;
  email: string;
  age: number;
  points: number;
}

export type CustomerChanges = Partial<Pick<Customer, 'name' | 'email' | 'age'>>;

/** Keyset position: after (age, id) when searching by age, after id otherwise. */
export type CustomerCursor = { kind: 'age'; age: number; id: number } | { kind: 'id'; id: number };

export interface CustomerQuery {
  minAge?: number;
  maxAge?: number;
  limit: number;
  after?: CustomerCursor;
}

export interface Page<T, C> {
  items: T[];
  next: C | null;
}

export async function insertCustomer(db: SqlRunner, c: NewCustomer): Promise<Customer> {
  const { rows } = await db.query<CustomerRow>(
    `INSERT INTO customers (name, email, age, points) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [c.name, c.email, c.age, c.points],
  );
  return toCustomer(rows[0]!);
}

export async function findCustomer(db: SqlRunner, id: number): Promise<Customer | null> {
  const { rows } = await db.query<CustomerRow>(`SELECT ${COLUMNS} FROM customers WHERE id = $1`, [id]);
  return rows[0] ? toCustomer(rows[0]) : null;
}

export async function updateCustomer(db: SqlRunner, id: number, changes: CustomerChanges): Promise<Customer | null> {
  const { rows } = await db.query<CustomerRow>(
    `UPDATE customers
        SET name = COALESCE($2, name), email = COALESCE($3, email), age = COALESCE($4, age), updated_at = now()
      WHERE id = $1
  RETURNING ${COLUMNS}`,
    [id, changes.name ?? null, changes.email ?? null, changes.age ?? null],
  );
  return rows[0] ? toCustomer(rows[0]) : null;
}

export async function deleteCustomer(db: SqlRunner, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM customers WHERE id = $1', [id]);
  return rowCount === 1;
}

/** Adds `delta` under the row lock; the caller's transaction keeps the lock until it commits. */
export async function addPoints(
  db: SqlRunner,
  id: number,
  delta: number,
): Promise<{ id: number; points: number } | null> {
  const { rows } = await db.query<{ id: string; points: number }>(
    'UPDATE customers SET points = points + $2, updated_at = now() WHERE id = $1 RETURNING id, points',
    [id, delta],
  );
  return rows[0] ? { id: Number(rows[0].id), points: rows[0].points } : null;
}

/**
 * The age search, keyset on (age, id) over customers_age_idx. The keyset position is the only lower bound:
 * with `age >= $min` beside it, nbtree may start from the weaker of the two and walk the index from the
 * beginning. The first page starts at (min_age, 0); ids are positive. Exported for EXPLAIN in the benchmark.
 */
export const AGE_PAGE_SQL = `SELECT ${COLUMNS} FROM customers
        WHERE (age, id) > ($1, $2) AND age <= $3
        ORDER BY age, id
        LIMIT $4`;

/** One page, keyset-paginated: by (age, id) on customers_age_idx when filtering by age, else by id. */
export async function listCustomers(db: SqlRunner, q: CustomerQuery): Promise<Page<Customer, CustomerCursor>> {
  const byAge = q.minAge !== undefined || q.maxAge !== undefined;
  let rows: CustomerRow[];
  if (byAge) {
    const minAge = q.minAge ?? 0;
    const start = q.after?.kind === 'age' && q.after.age >= minAge ? q.after : { age: minAge, id: 0 };
    ({ rows } = await db.query<CustomerRow>(AGE_PAGE_SQL, [start.age, start.id, q.maxAge ?? 150, q.limit + 1]));
  } else {
    const afterId = q.after?.kind === 'id' ? q.after.id : 0;
    ({ rows } = await db.query<CustomerRow>(`SELECT ${COLUMNS} FROM customers WHERE id > $1 ORDER BY id LIMIT $2`, [
      afterId,
      q.limit + 1,
    ]));
  }
  const items = rows.slice(0, q.limit).map(toCustomer);
  const last = items[items.length - 1];
  const next: CustomerCursor | null =
    rows.length > q.limit && last
      ? byAge
        ? { kind: 'age', age: last.age, id: last.id }
        : { kind: 'id', id: last.id }
      : null;
  return { items, next };
}

/** Top customers by points, ties by id descending (the same order as the Redis sorted set). */
export async function topByPoints(db: SqlRunner, limit: number): Promise<{ id: number; points: number }[]> {
  const { rows } = await db.query<{ id: string; points: number }>(
    'SELECT id, points FROM customers ORDER BY points DESC, id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ id: Number(r.id), points: r.points }));
}
