import type { Registry } from 'prom-client';
import { isSampleLineWriter } from '../metrics/log-metrics.js';

/*
 * OpenMetrics 1.0 text serialiser. prom-client can render OpenMetrics only from a registry whose content type is
 * fixed to it, and doing so permanently renames every counter object (strips `_total` from metric.name), which
 * would corrupt the next Prometheus-text scrape of the same metrics. So we render each family from its public JSON
 * form, or, for the access-log families, from their own sample lines (see text-format.ts).
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
const FAMILY_TYPES: Record<string, string> = { counter: 'counter', gauge: 'gauge', histogram: 'histogram', summary: 'summary' };

export async function renderOpenMetrics(registry: Registry): Promise<string> {
  const out: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    const type = FAMILY_TYPES[String(metric.type)] ?? 'unknown';
    const familyName = type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
    out.push(`# TYPE ${familyName} ${type}`);
    out.push(`# HELP ${familyName} ${escapeHelp(metric.help)}`);
    // The access-log families write their lines themselves (their counters already end in _total).
    if (isSampleLineWriter(metric)) {
      metric.writeSampleLines(out, formatValue);
      continue;
    }
    const family = await registry.getSingleMetric(metric.name)?.get();
    for (const sample of family?.values ?? []) {
      const valueWithName = sample as typeof sample & { metricName?: string };
      const name = valueWithName.metricName ?? (type === 'counter' ? `${familyName}_total` : metric.name);
      out.push(`${name}${formatLabels(sample.labels as Record<string, string | number | undefined>)} ${formatValue(sample.value)}`);
    }
  }
  out.push('# EOF', '');
  return out.join('\n');
}
