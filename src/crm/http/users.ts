import type { Router } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError, pgErrorCode } from '../errors.js';
import { hashPassword } from '../password.js';
import { claimPasswordFence, findUser, insertUser, setPasswordHash } from '../repositories/users.js';
import type { AppDeps } from './deps.js';
import { ctxOf } from './middleware.js';
import { routes } from './route.js';
import { newUserSchema, parseId, parseOr400, passwordChangeSchema } from './validation.js';

/** Each hash costs a 32 MiB, ~0.1 s scrypt: take a token just before it, so only work we would really do is limited. */
function hashWithinLimit(deps: AppDeps, password: string, what: string): Promise<string> {
  const waitMs = deps.passwordHashes.take();
  if (waitMs > 0) {
    throw new HttpError(429, `too many ${what}, try again later`, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
    });
  }
  return hashPassword(password);
}

export function userRoutes(router: Router, deps: AppDeps): void {
  const route = routes(router, { faults: { state: deps.faults, db: deps.db } });

  route('post', '/api/users', async (req, res) => {
    const { email, password } = parseOr400(newUserSchema, req.body, 'body');
    const hash = await hashWithinLimit(deps, password, 'new users');
    const user = await insertUser(deps.db.forRequest(ctxOf(res)), email, hash).catch((err: unknown) => {
      if (pgErrorCode(err) === '23505') throw new HttpError(409, 'email: already in use', 'email');
      throw err;
    });
    res.status(201).location(`/api/users/${user.id}`).json(user);
  });

  route('get', '/api/users/:id', async (req, res) => {
    const user = await findUser(deps.db.forRequest(ctxOf(res)), parseId(req.params.id));
    if (!user) throw new HttpError(404, 'user not found');
    res.json(user);
  });

  /** One password change per user at a time, across every instance: a Redis lock with a lease and a bounded wait. */
  route('post', '/api/users/:id/password', async (req, res) => {
    const id = parseId(req.params.id);
    const { password } = parseOr400(passwordChangeSchema, req.body, 'body');
    const ctx = ctxOf(res);
    const lockName = `user:${id}:password`;
    const got = await deps.lock.acquire(lockName, deps.lockOptions);
    ctx.lock = got.outcome;
    ctx.lockWaitMs = got.waitedMs;
    if (got.outcome === 'contended') {
      const retryAfter = String(Math.max(1, Math.ceil(got.retryAfterMs / 1000)));
      throw new HttpError(409, 'another password change for this user is in progress', undefined, {
        'Retry-After': retryAfter,
      });
    }
    if (got.outcome === 'timeout') {
      throw new HttpError(503, 'lock service unavailable, password not changed', undefined, { 'Retry-After': '1' });
    }
    try {
      const db = deps.db.forRequest(ctx);
      // The Redis lease can run out while we work (slow pool, slow disk, a pause): the fencing token, not the
      // lease, decides whether this change may still write.
      const fence = await claimPasswordFence(db, id);
      if (fence === null) throw new HttpError(404, 'user not found');
      const hash = await hashWithinLimit(deps, password, 'password changes');
      const hold = deps.faults.current.lock_hold_ms;
      if (hold > 0) await sleep(hold);
      const user = await setPasswordHash(db, id, hash, fence);
      if (user === null) throw new HttpError(404, 'user not found');
      if (user === 'superseded') {
        throw new HttpError(
          409,
          'another password change for this user took over (this one outlasted its lock lease)',
          undefined,
          { 'Retry-After': '1' },
        );
      }
      res.json(user);
    } finally {
      if (!(await deps.lock.release(lockName, got.token))) {
        deps.log(
          'warn',
          `lock ${lockName} had expired before release (LOCK_TTL_MS ${deps.lockOptions.ttlMs} is shorter than this change took)`,
        );
      }
    }
  });
}
