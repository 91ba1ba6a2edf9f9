import type { Registry } from 'prom-client';
import { collectDefaultMetrics } from '../exposition/prom-client.js';

/**
 * prom-client's default gauges that break Prometheus naming (a gauge must not end in `_total`; promtool flags them).
 * Each is the sum over `type` of a per-type gauge prom-client also serves (`nodejs_active_handles{type}` ...), so
 * `sum(nodejs_active_handles)` gives the same number and nothing is lost by leaving them out.
 */
const NON_CONFORMING = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** prom-client's default process and Node.js runtime metrics, minus the ones promtool rejects. */
export function registerRuntimeMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of NON_CONFORMING) registry.removeSingleMetric(name);
}
