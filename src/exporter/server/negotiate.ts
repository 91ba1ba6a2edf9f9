import { Registry } from '../exposition/prom-client.js';
import type { ChunkSink } from './chunks.js';
import { writeOpenMetrics } from './openmetrics.js';
import { writePrometheusText } from './text-format.js';

export const PROMETHEUS_TEXT = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TEXT = Registry.OPENMETRICS_CONTENT_TYPE;

/** Picks OpenMetrics only when the client asks for it and ranks it at least as high as the text format. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openMetricsQ = -1;
  let textQ = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part
      .trim()
      .split(';')
      .map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number.parseFloat(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') openMetricsQ = Math.max(openMetricsQ, q);
    else if (type === 'text/plain' || type === '*/*') textQ = Math.max(textQ, q);
  }
  return openMetricsQ > 0 && openMetricsQ >= textQ;
}

export const metricsContentType = (openMetrics: boolean): string => (openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT);

/** Streams the registry in the requested format into `sink` (see chunks.ts). */
export function writeMetrics(registry: Registry, openMetrics: boolean, sink: ChunkSink): Promise<void> {
  return openMetrics ? writeOpenMetrics(registry, sink) : writePrometheusText(registry, sink);
}
