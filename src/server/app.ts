import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { scrapeDeadlineMs, type CollectorOrchestrator } from '../collectors/orchestrator.js';
import { renderLandingPage, type SourceStatus } from './landing-page.js';
import { renderMetrics, wantsOpenMetrics } from './negotiate.js';

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
      const { body, contentType } = await renderMetrics(options.registry, wantsOpenMetrics(req.header('Accept')));
      res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(body);
    } catch (err) {
      res.status(500).type('text/plain').send(`error rendering metrics: ${err instanceof Error ? err.message : String(err)}\n`);
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
