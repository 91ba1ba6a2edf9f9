import type { Registry } from 'prom-client';
import { isSampleLineWriter } from '../metrics/log-metrics.js';

/*
 * Prometheus text format 0.0.4, byte for byte what prom-client's `registry.metrics()` writes, except that families
 * able to write their own sample lines (the access-log families, thousands of series under a route-cardinality
 * attack) do so: prom-client's generic formatting allocates a dozen objects per sample.
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
 * One array, one join: families are separated by an empty element (a blank line) and the last element is empty
 * (the final newline), so the answer is built by a single copy, not one per family plus one for the whole.
 */
export async function renderPrometheusText(registry: Registry): Promise<string> {
  const out: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    if (out.length > 0) out.push('');
    if (isSampleLineWriter(metric)) {
      out.push(`# HELP ${escapeHelp(metric.name)} ${escapeHelp(metric.help)}`, `# TYPE ${escapeHelp(metric.name)} ${String(metric.type)}`);
      metric.writeSampleLines(out, formatValue);
    } else {
      out.push(await registry.getSingleMetricAsString(metric.name));
    }
  }
  if (out.length === 0) return '\n';
  out.push('');
  return out.join('\n');
}
