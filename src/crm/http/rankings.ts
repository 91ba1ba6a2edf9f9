import type { Router } from 'express';
import type { AppDeps } from './deps.js';
import { ctxOf } from './middleware.js';
import { routes } from './route.js';
import { parseOr400, rankingsQuerySchema } from './validation.js';

export function rankingRoutes(router: Router, deps: AppDeps): void {
  const route = routes(router, { faults: { state: deps.faults, db: deps.db } });
  route(
    'get',
    '/api/rankings',
    async (req, res) => {
      const { limit } = parseOr400(rankingsQuerySchema, req.query, 'query');
      res.json({ items: await deps.rankings.top(ctxOf(res), limit ?? 10) });
    },
    true,
  );
}
