import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Router } from 'express';
import { HttpError } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { parseOr400 } from '../http/validation.js';
import { routes } from '../http/route.js';
import { faultsSchema } from './faults.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <token>`, compared in constant time. */
function requireToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const match = /^Bearer (.+)$/.exec(req.header('authorization') ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new HttpError(401, 'admin token required (Authorization: Bearer <CRM_ADMIN_TOKEN>)', undefined, {
        'WWW-Authenticate': 'Bearer realm="crm-admin"',
      });
    }
    next();
  };
}

/** Fault injection and cache control; not registered at all (404) unless CRM_ADMIN_TOKEN is set. */
export function adminRoutes(router: Router, deps: AppDeps): void {
  if (!deps.adminToken) return;
  const route = routes(router, { guard: requireToken(deps.adminToken) });
  const show = () => ({ faults: deps.faults.current, active: deps.faults.active });

  route('get', '/admin/faults', (_req, res) => {
    res.json(show());
  });
  route('put', '/admin/faults', (req, res) => {
    deps.faults.set(parseOr400(faultsSchema, req.body, 'body'));
    deps.log('warn', `faults set: ${JSON.stringify(deps.faults.current)}`);
    res.json(show());
  });
  route('delete', '/admin/faults', (_req, res) => {
    deps.faults.reset();
    deps.log('info', 'faults cleared');
    res.json(show());
  });
  route('post', '/admin/cache/flush', async (_req, res) => {
    const customers = await deps.customerCache.flush();
    const rankings = await deps.rankings.drop();
    deps.log('warn', `cache flushed: ${customers} customer keys, rankings ${rankings ? 'dropped' : 'absent'}`);
    res.json({ customer_keys_deleted: customers, rankings_dropped: rankings });
  });
}
