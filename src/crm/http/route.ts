import express, { type RequestHandler, type Router } from 'express';
import { HttpError } from '../errors.js';
import type { FaultState } from '../admin/faults.js';
import type { Database } from '../db/database.js';
import { injectFaults, tagRoute } from './middleware.js';

const jsonBody = express.json({ limit: '16kb', strict: true });

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** `takesQuery`: the handler validates its own query string; otherwise any query parameter is a 400. */
export type Route = (method: Method, template: string, handler: RequestHandler, takesQuery?: boolean) => void;

const noQuery: RequestHandler = (req, _res, next) => {
  const field = Object.keys(req.query)[0];
  if (field !== undefined) throw new HttpError(400, `${field}: unknown query parameter`, field);
  next();
};

export interface RouteOptions {
  /** Runs before the body is read (e.g. an auth check). */
  guard?: RequestHandler;
  /** Apply admin-configured faults to these routes. */
  faults?: { state: FaultState; db: Database };
}

/** Registers routes as: tag the route template, guard, faults, parse JSON, handler. */
export function routes(router: Router, opts: RouteOptions = {}): Route {
  return (method, template, handler, takesQuery = false) => {
    const chain: RequestHandler[] = [tagRoute(template)];
    if (!takesQuery) chain.push(noQuery);
    if (opts.guard) chain.push(opts.guard);
    if (opts.faults) chain.push(injectFaults(opts.faults.state, opts.faults.db, template));
    chain.push(jsonBody, handler);
    router[method](template, ...chain);
  };
}
