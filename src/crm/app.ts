import express, { type Express } from 'express';
import type { AccessLogSink } from './access-log.js';
import { adminRoutes } from './admin/routes.js';
import { customerRoutes } from './http/customers.js';
import type { AppDeps } from './http/deps.js';
import { healthRoutes } from './http/health.js';
import { errorHandler, notFound, requestContext } from './http/middleware.js';
import { noteRoutes } from './http/notes.js';
import { rankingRoutes } from './http/rankings.js';
import { userRoutes } from './http/users.js';

export type { AppDeps, Readiness } from './http/deps.js';

/** The CRM's HTTP surface. No listen() here: service.ts and tests decide where it listens. */
export function createApp(deps: AppDeps, accessLog?: AccessLogSink): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(accessLog));
  const router = express.Router();
  healthRoutes(router, deps);
  customerRoutes(router, deps);
  noteRoutes(router, deps);
  userRoutes(router, deps);
  rankingRoutes(router, deps);
  adminRoutes(router, deps);
  app.use(router);
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
