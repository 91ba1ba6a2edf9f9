/**
 * Versioned schema changes, applied in order at start-up and recorded in schema_migrations.
 * Never edit an applied migration: add a new one (the runner refuses a changed checksum).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tables',
    sql: `
CREATE TABLE IF NOT EXISTS customers (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email      text        NOT NULL CONSTRAINT customers_email_key UNIQUE,
  age        smallint    NOT NULL CHECK (age BETWEEN 0 AND 150),
  points     integer     NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         text        NOT NULL CONSTRAINT users_email_key UNIQUE,
  password_hash text        NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS notes (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint      NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  body        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);`,
  },
  {
    version: 2,
    name: 'indexes',
    sql: `
-- Age search: WHERE age BETWEEN .. AND (age, id) > cursor ORDER BY age, id (keyset pagination).
CREATE INDEX IF NOT EXISTS customers_age_idx ON customers (age, id);
-- Rankings fallback and rebuild: ORDER BY points DESC, id DESC LIMIT n.
CREATE INDEX IF NOT EXISTS customers_points_idx ON customers (points DESC, id DESC);
-- A customer's notes, newest first, keyset on id.
CREATE INDEX IF NOT EXISTS notes_customer_idx ON notes (customer_id, id);`,
  },
  {
    version: 3,
    name: 'password fence',
    sql: `
-- Fencing token of password changes: each change claims the next value, and its write succeeds only while the
-- value is still its own, so a change whose Redis lease ran out cannot commit over a later one.
ALTER TABLE users ADD COLUMN IF NOT EXISTS password_fence bigint NOT NULL DEFAULT 0;`,
  },
];
