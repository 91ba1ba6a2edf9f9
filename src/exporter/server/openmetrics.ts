import type { Registry } from 'prom-client';
import { isSampleLineWriter } from '../exposition/family.js';
import { collect, handled, writeParts, type ChunkSink } from './chunks.js';

/*
 * OpenMetrics 1.0 text serialiser. prom-client can render OpenMetrics only from a registry whose content type is
 * fixed to it, and doing so permanently renames every counter object (strips `_total` from metric.name), which
 * would corrupt the next Prometheus-text scrape of the same metrics. So we render each family from its public JSON
 * form, or, for scrape-time families (exposition/family.ts), from their own sample lines; streamed, like the text format (chunks.ts).
 */

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(labels)) {
    if (raw === undefined) continue;
    const value = key === 'le' && typeof raw === 'number' ? formatValue(raw) : String(raw);
    parts.push(`${key}="${escapeLabel(value)}"`);
  }
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

/** OpenMetrics family types for prom-client's types (prom-client has no info/stateset/gaugehistogram). */
const FAMILY_TYPES: Record<string, string> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
};

/** OpenMetrics TYPE and HELP lines; a counter family is named without `_total`. */
function header(
  name: string,
  prometheusType: string,
  help: string,
): { type: string; familyName: string; text: string } {
  const type = FAMILY_TYPES[prometheusType] ?? 'unknown';
  const familyName = type === 'counter' ? name.replace(/_total$/, '') : name;
  return { type, familyName, text: `# TYPE ${familyName} ${type}\n# HELP ${familyName} ${escapeHelp(help)}\n` };
}

/**
 * Everything is read in the first synchronous step (see writePrometheusText). A prom-client family's name, type and
 * help come from what its get() returns; a family that writes its own sample lines (exposition/family.ts) gives
 * them as properties.
 */
export async function writeOpenMetrics(registry: Registry, sink: ChunkSink): Promise<void> {
  const parts = registry.getMetricsAsArray().map((metric): Buffer[] | Promise<Buffer[]> => {
    if (isSampleLineWriter(metric)) {
      // scrape-time families write their own lines (their counters already end in _total: defineFamily checks it)
      const chunks = [sink.encode(header(metric.name, String(metric.type), metric.help).text)];
      metric.writeSampleLines((chunk) => chunks.push(sink.encode(chunk)), formatValue);
      return chunks;
    }
    const family = registry.getSingleMetric(metric.name)?.get();
    if (family === undefined) return [];
    return handled(family).then((f) => {
      const { type, familyName, text } = header(f.name, String(f.type), f.help);
      const lines = [text];
      for (const sample of f.values) {
        const valueWithName = sample as typeof sample & { metricName?: string };
        const name = valueWithName.metricName ?? (type === 'counter' ? `${familyName}_total` : f.name);
        lines.push(
          `${name}${formatLabels(sample.labels as Record<string, string | number | undefined>)} ${formatValue(sample.value)}\n`,
        );
      }
      return [sink.encode(lines.join(''))];
    });
  });
  parts.push([sink.encode('# EOF\n')]);
  await writeParts(parts, sink);
}

/** The whole exposition as one string (tests, tools; /metrics streams). */
export function renderOpenMetrics(registry: Registry): Promise<string> {
  return collect((sink) => writeOpenMetrics(registry, sink));
}
