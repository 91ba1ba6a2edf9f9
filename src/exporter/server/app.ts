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
  /** Runs after the collectors and before serialising (e.g. refresh file-size gauges). */
  beforeRender?: () => void;
}

/** The HTTP surface of the exporter. No listen() here: main.ts and tests decide where it listens. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/metrics', async (req, res) => {
    try {
      const orchestrator = options.orchestrator;
      const outcomes = orchestrator ? await orchestrator.run(scrapeDeadlineMs(req.header('X-Prometheus-Scrape-Timeout-Seconds'), options.scrape)) : [];
      options.beforeRender?.();
      // this scrape's own collector health, set in the same synchronous step that starts serialising (see publish)
      orchestrator?.publish(outcomes);
      const openMetrics = wantsOpenMetrics(req.header('Accept'));
      res.set('Content-Type', metricsContentType(openMetrics)).set('Cache-Control', 'no-store');
      // Streamed (chunked): at the caps an exposition is megabytes, and holding it whole per scrape grew RSS.
      await writeMetrics(options.registry, openMetrics, responseSink(res));
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
    res.type('html').send(renderLandingPage(options.version, options.sources?.() ?? [], options.orchestrator?.names ?? []));
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found: see / for the available endpoints\n');
  });

  return app;
}
