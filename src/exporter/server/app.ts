import express, { type Express } from 'express';
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

/** The scraper's own timeout in ms from its X-Prometheus-Scrape-Timeout-Seconds header, or undefined. */
function announcedTimeoutMs(header: string | undefined): number | undefined {
  const ms = header === undefined ? NaN : Number.parseFloat(header) * 1000;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** The HTTP surface of the exporter. No listen() here: main.ts and tests decide where it listens. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/metrics', async (req, res) => {
    const arrived = performance.now();
    const timeoutHeader = req.header('X-Prometheus-Scrape-Timeout-Seconds');
    try {
      const orchestrator = options.orchestrator;
      const outcomes = orchestrator ? await orchestrator.run(scrapeDeadlineMs(timeoutHeader, options.scrape)) : [];
      // this scrape's own collector health, set in the same synchronous step that starts serialising (see publish)
      orchestrator?.publish(outcomes);
      const openMetrics = wantsOpenMetrics(req.header('Accept'));
      res.set('Content-Type', metricsContentType(openMetrics)).set('Cache-Control', 'no-store');
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
      const message = `error rendering metrics: ${err instanceof Error ? err.message : String(err)}`;
      // Once the first chunk went out the status is sent: cut the answer so Prometheus sees a failed scrape.
      if (res.headersSent) res.destroy(new Error(message));
      else res.status(500).type('text/plain').send(`${message}\n`);
    }
  });

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  app.get('/', (_req, res) => {
    res
      .type('html')
      .send(renderLandingPage(options.version, options.sources?.() ?? [], options.orchestrator?.names ?? []));
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found: see / for the available endpoints\n');
  });

  return app;
}
