import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessLogEntry, AccessLogSink } from '../access-log.js';
import { round3 } from '../access-log.js';
import { newContext, type RequestContext } from '../context.js';
import type { Database } from '../db/database.js';
import { HttpError, isDatabaseUnavailable } from '../errors.js';
import { routeMatches, type FaultState } from '../admin/faults.js';
import type { Logger } from '../log.js';

export function ctxOf(res: Response): RequestContext {
  return res.locals.ctx as RequestContext;
}

/** Starts the request's context and writes its access-log line when the response ends (or the client goes away: 499). */
export function requestContext(accessLog: AccessLogSink | undefined): RequestHandler {
  return (req, res, next) => {
    const started = new Date();
    const ctx = newContext(req.header('x-request-id'));
    res.locals.ctx = ctx;
    res.setHeader('X-Request-Id', ctx.requestId);
    if (accessLog) {
      let written = false;
      const write = (aborted: boolean): void => {
        if (written) return;
        written = true;
        accessLog.write(entryFor(req, res, ctx, started, aborted));
      };
      res.once('finish', () => write(false));
      res.once('close', () => write(!res.writableFinished));
    }
    next();
  };
}

function entryFor(req: Request, res: Response, ctx: RequestContext, started: Date, aborted: boolean): AccessLogEntry {
  const noBody = req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || aborted;
  return {
    time: started.toISOString(),
    method: req.method,
    path: req.originalUrl,
    route: ctx.route,
    status: aborted ? 499 : res.statusCode,
    duration_ms: round3(performance.now() - ctx.startedAt),
    bytes: noBody ? 0 : Number(res.getHeader('content-length') ?? 0),
    db_ms: round3(ctx.dbMs),
    cache_ms: ctx.cacheMs === undefined ? undefined : round3(ctx.cacheMs),
    cache: ctx.cache,
    lock: ctx.lock,
    lock_wait_ms: ctx.lockWaitMs === undefined ? undefined : round3(ctx.lockWaitMs),
    request_id: ctx.requestId,
  };
}

/** Records the matched route template for the access log. */
export function tagRoute(template: string): RequestHandler {
  return (_req, res, next) => {
    ctxOf(res).route = template;
    next();
  };
}

/** Applies the admin-configured faults of this route: latency, a slow query, then a share of 500s. */
export function injectFaults(faults: FaultState, db: Database, template: string): RequestHandler {
  return async (_req, res, next) => {
    const f = faults.current;
    if (f.latency_ms > 0 && routeMatches(f.latency_route, template)) await sleep(f.latency_ms);
    if (f.slow_query_ms > 0 && routeMatches(f.slow_query_route, template)) {
      await db.forRequest(ctxOf(res)).query('SELECT pg_sleep($1)', [f.slow_query_ms / 1000]);
    }
    if (f.error_rate > 0 && routeMatches(f.error_route, template) && Math.random() < f.error_rate) {
      throw new HttpError(500, 'injected fault');
    }
    next();
  };
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'no such endpoint', request_id: ctxOf(res).requestId });
};

/** The http-errors shape that express's router and body-parser throw for what the client sent. */
interface ClientFault {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

const BODY_MESSAGES: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'request body is not valid JSON',
  'entity.too.large': 'request body is too large',
};

/**
 * The status and a safe message when `err` is the client's fault (a 4xx from the router or the body parser: a
 * malformed percent-encoded path, a body that does not inflate, ...), else undefined. Never the error's own
 * message: it can echo what the client sent.
 */
function clientFault(err: unknown): { status: number; error: string; field: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const f = err as ClientFault;
  const status = typeof f.status === 'number' ? f.status : f.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 499) return undefined;
  if (err instanceof URIError) return { status, error: 'path: malformed percent-encoding', field: '(path)' };
  const message =
    typeof f.type === 'string'
      ? (BODY_MESSAGES[f.type] ?? 'unsupported request body')
      : 'request body could not be read';
  return { status, error: message, field: '(body)' };
}

/** Every error becomes JSON with a safe message; only unexpected ones are logged, never a client's body. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const ctx = ctxOf(res);
    const requestId = ctx.requestId;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      res
        .set(err.headers)
        .status(err.status)
        .json({ error: err.message, ...(err.field !== undefined && { field: err.field }), request_id: requestId });
      return;
    }
    const fault = clientFault(err);
    if (fault) {
      res.status(fault.status).json({ error: fault.error, field: fault.field, request_id: requestId });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      log(
        'warn',
        `request ${requestId} ${ctx.route}: database unavailable: ${err instanceof Error ? err.message : String(err)}`,
      );
      res.set('Retry-After', '1').status(503).json({ error: 'database unavailable', request_id: requestId });
      return;
    }
    log(
      'error',
      `request ${requestId} ${ctx.route} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    res.status(500).json({ error: 'internal error', request_id: requestId });
  };
}
