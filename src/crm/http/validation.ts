import { z } from 'zod';
import { HttpError } from '../errors.js';
import type { CustomerCursor } from '../repositories/customers.js';

/** The first problem as a 400 naming the field; messages never echo the submitted value. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = issue.keys[0] ?? '(unknown)';
    throw new HttpError(400, `${field}: unknown field`, field);
  }
  const field = issue.path.length > 0 ? issue.path.join('.') : `(${where})`;
  const message =
    issue.path.length === 0 && where === 'body' && issue.code === 'invalid_type'
      ? 'request body must be a JSON object'
      : issue.message;
  throw new HttpError(400, `${field}: ${message}`, field);
}

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** A path id: a positive decimal integer within the safe range. */
export function parseId(raw: string | string[] | undefined, field = 'id'): number {
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,15}$/.test(raw) || Number(raw) > MAX_ID) {
    throw new HttpError(400, `${field}: must be a positive integer`, field);
  }
  return Number(raw);
}

/** PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database. */
const text = (message = 'must be a string') =>
  z.string(message).refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');

const name = text().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const email = text()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be an email address'))
  .transform((e) => e.toLowerCase());
const age = z.int('must be an integer').min(0, 'must be between 0 and 150').max(150, 'must be between 0 and 150');
const points = z.int('must be an integer').min(-1_000_000_000).max(1_000_000_000);
const password = text().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters');

export const newCustomerSchema = z.strictObject({ name, email, age, points: points.default(0) });

export const customerChangesSchema = z
  .strictObject({ name: name.optional(), email: email.optional(), age: age.optional() })
  .refine((c) => c.name !== undefined || c.email !== undefined || c.age !== undefined, {
    message: 'give at least one of name, email, age',
  });

export const pointsSchema = z.strictObject({
  delta: z
    .int('must be an integer')
    .min(-1_000_000, 'must be between -1000000 and 1000000')
    .max(1_000_000, 'must be between -1000000 and 1000000'),
});

export const newNoteSchema = z.strictObject({
  body: text().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters'),
});

export const newUserSchema = z.strictObject({ email, password });

export const passwordChangeSchema = z.strictObject({ password });

/** Query strings arrive as strings; a repeated parameter arrives as an array and is rejected. */
const queryInt = (min: number, max: number) =>
  z
    .string('must be given once')
    .regex(/^-?[0-9]{1,10}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.int().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`));

export const customerQuerySchema = z
  .strictObject({
    age: queryInt(0, 150).optional(),
    min_age: queryInt(0, 150).optional(),
    max_age: queryInt(0, 150).optional(),
    limit: queryInt(1, 500).optional(),
    cursor: z.string('must be given once').max(200).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.age !== undefined && (q.min_age !== undefined || q.max_age !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['age'], message: 'cannot be combined with min_age or max_age' });
    }
    if (q.min_age !== undefined && q.max_age !== undefined && q.min_age > q.max_age) {
      ctx.addIssue({ code: 'custom', path: ['min_age'], message: 'must not exceed max_age' });
    }
  });

export const pageQuerySchema = z.strictObject({
  limit: queryInt(1, 500).optional(),
  cursor: z.string('must be given once').max(200).optional(),
});

export const rankingsQuerySchema = z.strictObject({ limit: queryInt(1, 100).optional() });

/** Opaque to clients: base64url of `a:<age>:<id>` or `i:<id>`. */
export function encodeCursor(c: CustomerCursor): string {
  return Buffer.from(c.kind === 'age' ? `a:${c.age}:${c.id}` : `i:${c.id}`).toString('base64url');
}

export function decodeCursor(raw: string | undefined): CustomerCursor | undefined {
  if (raw === undefined) return undefined;
  const text = Buffer.from(raw, 'base64url').toString();
  const m = /^(?:a:(\d{1,3}):(\d{1,16})|i:(\d{1,16}))$/.exec(text);
  if (!m) throw new HttpError(400, 'cursor: not a cursor this API returned', 'cursor');
  return m[3] !== undefined ? { kind: 'id', id: Number(m[3]) } : { kind: 'age', age: Number(m[1]), id: Number(m[2]) };
}

export function decodeNoteCursor(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^n:(\d{1,16})$/.exec(Buffer.from(raw, 'base64url').toString());
  if (!m) throw new HttpError(400, 'cursor: not a cursor this API returned', 'cursor');
  return Number(m[1]);
}

export function encodeNoteCursor(id: number): string {
  return Buffer.from(`n:${id}`).toString('base64url');
}
