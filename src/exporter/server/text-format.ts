import type { Registry } from 'prom-client';
import { isSampleLineWriter } from '../exposition/family.js';
import { collect, handled, writeParts, type ChunkSink } from './chunks.js';

/*
 * Prometheus text format 0.0.4, byte for byte what prom-client's `registry.metrics()` writes, streamed (chunks.ts).
 * Families that write their own sample lines (exposition/family.ts, the access-log families) do so; prom-client's
 * generic formatting, which holds a dozen objects per sample, is left for its own default runtime metrics.
 */

const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** prom-client's spelling, `Nan` included. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Families separated by a blank line, every line ending in a newline. Everything is read in the first synchronous
 * step: the scrape-time families render their lines (so the tailer cannot count between two of them, and the
 * collector health the orchestrator published just before is this scrape's, whatever a concurrent scrape publishes
 * next), and prom-client's own families start rendering, as `registry.metrics()` does.
 */
export async function writePrometheusText(registry: Registry, sink: ChunkSink): Promise<void> {
  const metrics = registry.getMetricsAsArray();
  const parts = metrics.map((metric, i): Buffer[] | Promise<Buffer[]> => {
    const separator = i > 0 ? '\n' : '';
    if (!isSampleLineWriter(metric)) {
      return handled(registry.getSingleMetricAsString(metric.name)).then((text) => [
        sink.encode(`${separator}${text}\n`),
      ]);
    }
    const chunks = [
      sink.encode(
        `${separator}# HELP ${escapeHelp(metric.name)} ${escapeHelp(metric.help)}\n# TYPE ${escapeHelp(metric.name)} ${String(metric.type)}\n`,
      ),
    ];
    metric.writeSampleLines((chunk) => chunks.push(sink.encode(chunk)), formatValue);
    return chunks;
  });
  if (metrics.length === 0) parts.push([sink.encode('\n')]);
  await writeParts(parts, sink);
}

/** The whole exposition as one string (tests, tools; /metrics streams). */
export function renderPrometheusText(registry: Registry): Promise<string> {
  return collect((sink) => writePrometheusText(registry, sink));
}
