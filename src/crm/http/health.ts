import type { Router } from 'express';
import type { AppDeps } from './deps.js';
import { routes } from './route.js';

export function healthRoutes(router: Router, deps: AppDeps): void {
  const route = routes(router);
  route('get', '/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  route('get', '/readyz', async (_req, res) => {
    const r = await deps.readiness();
    res
      .set('Cache-Control', 'no-store')
      .status(r.ready ? 200 : 503)
      .json({ status: r.ready ? 'ready' : 'not ready', postgres: r.postgres, redis: r.redis });
  });
}
