import type { Router } from 'express';
import { HttpError, pgErrorCode } from '../errors.js';
import {
  addPoints,
  deleteCustomer,
  findCustomer,
  insertCustomer,
  listCustomers,
  updateCustomer,
} from '../repositories/customers.js';
import type { AppDeps } from './deps.js';
import { ctxOf } from './middleware.js';
import { routes } from './route.js';
import {
  customerChangesSchema,
  customerQuerySchema,
  decodeCursor,
  encodeCursor,
  newCustomerSchema,
  parseId,
  parseOr400,
  pointsSchema,
} from './validation.js';

function duplicateEmail(err: unknown): never {
  if (pgErrorCode(err) === '23505') throw new HttpError(409, 'email: already in use', 'email');
  throw err;
}

export function customerRoutes(router: Router, deps: AppDeps): void {
  const route = routes(router, { faults: { state: deps.faults, db: deps.db } });

  route(
    'get',
    '/api/customers',
    async (req, res) => {
      const q = parseOr400(customerQuerySchema, req.query, 'query');
      const after = decodeCursor(q.cursor);
      const byAge = q.age !== undefined || q.min_age !== undefined || q.max_age !== undefined;
      if (after && (after.kind === 'age') !== byAge)
        throw new HttpError(400, 'cursor: belongs to a different query', 'cursor');
      const page = await listCustomers(deps.db.forRequest(ctxOf(res)), {
        minAge: q.age ?? q.min_age,
        maxAge: q.age ?? q.max_age,
        limit: q.limit ?? 50,
        after,
      });
      res.json({ items: page.items, next_cursor: page.next ? encodeCursor(page.next) : null });
    },
    true,
  );

  route('post', '/api/customers', async (req, res) => {
    const input = parseOr400(newCustomerSchema, req.body, 'body');
    const ctx = ctxOf(res);
    const customer = await deps.db.forRequest(ctx).transaction(async (tx) => {
      const created = await insertCustomer(tx, input).catch(duplicateEmail);
      await deps.rankings.setPoints(ctx, created.id, created.points);
      return created;
    });
    res.status(201).location(`/api/customers/${customer.id}`).json(customer);
  });

  route('get', '/api/customers/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const ctx = ctxOf(res);
    const customer = await deps.customerCache.read(ctx, String(id), () => findCustomer(deps.db.forRequest(ctx), id));
    if (!customer) throw new HttpError(404, 'customer not found');
    res.json(customer);
  });

  route('patch', '/api/customers/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const changes = parseOr400(customerChangesSchema, req.body, 'body');
    const ctx = ctxOf(res);
    const customer = await updateCustomer(deps.db.forRequest(ctx), id, changes).catch(duplicateEmail);
    if (!customer) throw new HttpError(404, 'customer not found');
    await deps.customerCache.invalidate(ctx, String(id));
    res.json(customer);
  });

  route('delete', '/api/customers/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const ctx = ctxOf(res);
    const deleted = await deleteCustomer(deps.db.forRequest(ctx), id);
    if (!deleted) throw new HttpError(404, 'customer not found');
    await deps.customerCache.invalidate(ctx, String(id));
    await deps.rankings.remove(ctx, id);
    res.status(204).end();
  });

  route('post', '/api/customers/:id/points', async (req, res) => {
    const id = parseId(req.params.id);
    const { delta } = parseOr400(pointsSchema, req.body, 'body');
    const ctx = ctxOf(res);
    const result = await deps.db
      .forRequest(ctx)
      .transaction(async (tx) => {
        const updated = await addPoints(tx, id, delta);
        // Still holding the row lock: concurrent changes of this customer reach Redis in commit order.
        if (updated) await deps.rankings.setPoints(ctx, updated.id, updated.points);
        return updated;
      })
      .catch((err: unknown) => {
        if (pgErrorCode(err) === '22003')
          throw new HttpError(400, 'delta: points would leave the integer range', 'delta');
        throw err;
      });
    if (!result) throw new HttpError(404, 'customer not found');
    await deps.customerCache.invalidate(ctx, String(id));
    res.json(result);
  });
}
