import type { Registry } from 'prom-client';

/*
 * OpenMetrics 1.0 text serialiser. prom-client can render OpenMetrics only from a registry whose content type is
 * fixed to it, and doing so permanently renames every counter object (strips `_total` from metric.name), which
 * would corrupt the next Prometheus-text scrape of the same metrics. So we render from the public JSON form.
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
  const families = await registry.getMetricsAsJSON();
  const out: string[] = [];
  for (const family of families) {
    const type = FAMILY_TYPES[String(family.type)] ?? 'unknown';
    const familyName = type === 'counter' ? family.name.replace(/_total$/, '') : family.name;
    out.push(`# TYPE ${familyName} ${type}`);
    out.push(`# HELP ${familyName} ${escapeHelp(family.help)}`);
    for (const sample of family.values) {
      const valueWithName = sample as typeof sample & { metricName?: string };
      const name = valueWithName.metricName ?? (type === 'counter' ? `${familyName}_total` : family.name);
      out.push(`${name}${formatLabels(sample.labels as Record<string, string | number | undefined>)} ${formatValue(sample.value)}`);
    }
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
