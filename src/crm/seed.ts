import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashPassword } from './password.js';

const FIRST = [
  'Ada',
  'Alan',
  'Amara',
  'Ana',
  'Arjun',
  'Ben',
  'Chen',
  'Chloe',
  'Daniel',
  'Diego',
  'Elena',
  'Emma',
  'Fatima',
  'Felix',
  'Grace',
  'Hana',
  'Hugo',
  'Ines',
  'Ivan',
  'Jakub',
  'Jonas',
  'Julia',
  'Kai',
  'Karin',
  'Leila',
  'Liam',
  'Lucia',
  'Malik',
  'Maria',
  'Mateo',
  'Mei',
  'Mia',
  'Nadia',
  'Noah',
  'Olga',
  'Omar',
  'Priya',
  'Rafael',
  'Rosa',
  'Sami',
  'Sofia',
  'Tariq',
  'Theo',
  'Uma',
  'Viktor',
  'Wei',
  'Yara',
  'Yusuf',
  'Zoe',
  'Zara',
];
const LAST = [
  'Andersen',
  'Bauer',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jansen',
  'Kowalski',
  'Larsen',
  'Martin',
  'Nakamura',
  'Novak',
  'Okafor',
  'Olsen',
  'Petrov',
  'Quinn',
  'Rossi',
  'Santos',
  'Schmidt',
  'Silva',
  'Singh',
  'Tanaka',
  'Meyer',
  'Nguyen',
  'Varga',
  'Wagner',
  'Weber',
  'Yilmaz',
  'Zhang',
  'Kim',
  'Lopez',
  'Moreau',
  'Horvat',
  'Ivanova',
  'Jovanovic',
  'Khan',
  'Lindqvist',
];
const TOPICS = [
  'renewal',
  'invoice question',
  'upgrade',
  'onboarding call',
  'support ticket',
  'referral',
  'feedback',
  'contract review',
];

export interface SeedOptions {
  customers: number;
  users?: number;
  /** Notes per customer on average (0..1 = share of customers with one note). Default 0.2. */
  notesPerCustomer?: number;
  batchSize?: number;
  /** Called after each batch with the customers inserted so far. */
  onProgress?: (inserted: number) => void;
}

export interface SeedResult {
  customers: number;
  users: number;
  notes: number;
  ms: number;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Adults, bunched in the middle: the sum of three uniforms. */
const randomAge = (): number =>
  Math.min(90, 18 + Math.floor(((Math.random() + Math.random() + Math.random()) / 3) * 73));

/** Long-tailed: most customers have a few points, a few have many. */
const randomPoints = (): number => Math.floor(-Math.log(1 - Math.random()) * 400);

/**
 * Bulk-loads realistic customers (multi-row INSERT ... SELECT FROM unnest, one round trip per batch, one
 * transaction), some notes, and users with real scrypt hashes of random passwords. Emails carry a random
 * tag, so seeding twice adds rows instead of failing.
 */
export async function seed(pool: pg.Pool, opts: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const tag = randomBytes(3).toString('hex');
  const batchSize = opts.batchSize ?? 10_000;
  const client = await pool.connect();
  let notes = 0;
  try {
    await client.query('BEGIN');
    for (let done = 0; done < opts.customers;) {
      const n = Math.min(batchSize, opts.customers - done);
      const names: string[] = [];
      const emails: string[] = [];
      const ages: number[] = [];
      const points: number[] = [];
      const created: string[] = [];
      for (let i = 0; i < n; i++) {
        const first = pick(FIRST);
        const last = pick(LAST);
        names.push(`${first} ${last}`);
        emails.push(`${first}.${last}.${tag}${done + i}@example.com`.toLowerCase());
        ages.push(randomAge());
        points.push(randomPoints());
        created.push(new Date(Date.now() - Math.random() * 3 * 365 * 86_400_000).toISOString());
      }
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO customers (name, email, age, points, created_at, updated_at)
         SELECT n, e, a, p, c, c FROM unnest($1::text[], $2::text[], $3::smallint[], $4::int[], $5::timestamptz[]) AS t(n, e, a, p, c)
         ON CONFLICT (email) DO NOTHING
         RETURNING id`,
        [names, emails, ages, points, created],
      );
      const share = opts.notesPerCustomer ?? 0.2;
      const noteIds = rows.filter(() => Math.random() < share).map((r) => r.id);
      if (noteIds.length > 0) {
        const bodies = noteIds.map(() => `${pick(TOPICS)}: followed up by ${pick(FIRST)}`);
        const res = await client.query(
          'INSERT INTO notes (customer_id, body) SELECT * FROM unnest($1::bigint[], $2::text[])',
          [noteIds, bodies],
        );
        notes += res.rowCount ?? 0;
      }
      done += n;
      opts.onProgress?.(done);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  const userCount = opts.users ?? 20;
  const hashes = await Promise.all(
    Array.from({ length: userCount }, () => hashPassword(randomBytes(12).toString('base64url'))),
  );
  if (userCount > 0) {
    const emails = hashes.map((_, i) => `user.${tag}${i}@example.com`);
    await pool.query(
      'INSERT INTO users (email, password_hash) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (email) DO NOTHING',
      [emails, hashes],
    );
  }
  await pool.query('ANALYZE customers');
  await pool.query('ANALYZE notes');
  await pool.query('ANALYZE users');
  return { customers: opts.customers, users: userCount, notes, ms: performance.now() - started };
}
