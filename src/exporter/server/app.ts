import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { scrapeDeadlineMs, type CollectorOrchestrator } from '../collectors/orchestrator.js';
import { renderLandingPage, type SourceStatus } from './landing-page.js';
import { responseSink } from './chunks.js';
import { metricsContentType, wantsOpenMetrics, writeMetrics } from './negotiate.js';

export type { SourceStatus } from './landing-page.js';

export interface AppOptions {
  registry: Registry;
  orchestrator?: CollectorOrchestrator;
  scrape: Config['scrape'];
  version: string;
  /** State of each log source for the landing page. */
  sources?: () => SourceStatus[];
  /**
   * Called for each GET /metrics in the synchronous step that reads the counters its answer carries (so no log line
   * can be counted in between); the function it returns runs once that answer was handed whole to the client's
   * connection, and never for an answer that failed, was cut short, or finished after the timeout the scraper
   * announced (`X-Prometheus-Scrape-Timeout-Seconds`: it has given up by then). main.ts saves the positions of the
   * log sources this way (docs/failure-modes.md, "Exactly once as Prometheus sees it").
   */
  snapshot?: () => () => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const TEXT = 'text/plain; charset=utf-8';

/**
 * The route a request names, as Express 5's defaults matched it: the path in any case, with at most one trailing
 * slash. (These three routes were served by Express, which alone held ~5 MiB of RSS.)
 */
const ROUTE = /^\/(metrics|healthz|)\/?$/i;

/** The path as Express saw it (url.parse): no query or fragment, also from an absolute-form `GET http://host/x`. */
function pathOf(url = ''): string {
  return url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/, 1)[0] || '/';
}

/** A header's value; Node makes an array only of the few headers that may repeat (set-cookie), never these. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A fixed answer as Express's res.send gave it: with Content-Length; Node drops the body of a HEAD answer. No ETag,
 * so no 304 either (Express gave one only for `If-None-Match: *`, which no scraper, probe or browser sends).
 */
function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** A failed answer: 500 while nothing was sent; once the status went out, cut it so the client sees a failure. */
function fail(res: ServerResponse, what: string, err: unknown): void {
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (res.headersSent) res.destroy(new Error(message));
  else send(res, 500, TEXT, `${message}\n`);
}

/** The scraper's own timeout in ms from its X-Prometheus-Scrape-Timeout-Seconds header, or undefined. */
function announcedTimeoutMs(header: string | undefined): number | undefined {
  const ms = header === undefined ? NaN : Number.parseFloat(header) * 1000;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * The HTTP surface of the exporter: a plain node:http listener, so the running exporter loads no web framework. No
 * server here: main.ts (createWebServer) and tests decide where it listens.
 */
export function createApp(options: AppOptions): RequestListener {
  const metrics: Handler = async (req, res) => {
    const arrived = performance.now();
    const timeoutHeader = header(req, 'x-prometheus-scrape-timeout-seconds');
    try {
      const orchestrator = options.orchestrator;
      const outcomes = orchestrator ? await orchestrator.run(scrapeDeadlineMs(timeoutHeader, options.scrape)) : [];
      // this scrape's own collector health, set in the same synchronous step that starts serialising (see publish)
      orchestrator?.publish(outcomes);
      const openMetrics = wantsOpenMetrics(header(req, 'accept'));
      res.setHeader('Content-Type', metricsContentType(openMetrics));
      res.setHeader('Cache-Control', 'no-store');
      // Still the same synchronous step as writeMetrics' reading of every value. A HEAD answer carries no body.
      const served = req.method === 'GET' ? options.snapshot?.() : undefined;
      let complete = false;
      if (served) {
        const clientTimeoutMs = announcedTimeoutMs(timeoutHeader);
        // 'finish': every byte handed to the connection. Not emitted for a destroyed answer (client gone, render
        // failed); `complete` excludes the 500 written when rendering failed before the first chunk.
        res.once('finish', () => {
          if (complete && (clientTimeoutMs === undefined || performance.now() - arrived <= clientTimeoutMs)) served();
        });
      }
      // Streamed (chunked): at the caps an exposition is megabytes, and holding it whole per scrape grew RSS.
      await writeMetrics(options.registry, openMetrics, responseSink(res));
      complete = true;
      res.end();
    } catch (err) {
      fail(res, 'error rendering metrics', err);
    }
  };

  const routes = new Map<string, Handler>([
    ['metrics', metrics],
    [
      'healthz',
      (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ status: 'ok' }));
      },
    ],
    [
      '',
      (_req, res) => {
        const page = renderLandingPage(options.version, options.sources?.() ?? [], options.orchestrator?.names ?? []);
        send(res, 200, 'text/html; charset=utf-8', page);
      },
    ],
  ]);
  const notFound: Handler = (_req, res) => send(res, 404, TEXT, 'not found: see / for the available endpoints\n');

  return (req, res) => {
    const name = ROUTE.exec(pathOf(req.url))?.[1]?.toLowerCase();
    const route = name !== undefined && (req.method === 'GET' || req.method === 'HEAD') ? routes.get(name) : undefined;
    // A handler that throws or rejects answers 500: an unhandled rejection would end the process.
    (async () => (route ?? notFound)(req, res))().catch((err: unknown) => fail(res, 'internal error', err));
  };
}
