import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { registerRuntimeMetrics } from '../../src/exporter/metrics/runtime.js';
import { ruleFiles } from '../../src/exporter/bundle/rules/index.js';
import type { Thresholds } from '../../src/exporter/bundle/thresholds-schema.js';
import { isAlert } from '../../src/exporter/bundle/rules/types.js';

/*
 * The series a dashboard may read, from what the exporter really serves (the golden expositions and prom-client's
 * runtime metrics, not a list typed here), what Prometheus adds per target, and what the generated rules record.
 */

const GOLDEN = 'test/golden';

/** Adds the sample names of an exposition; counters, histogram samples and summary _sum/_count are counters. */
function addExposition(text: string, out: ExposedSeries): void {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) {
    const name = m[1]!;
    out.names.add(name);
    const family = types.has(name) ? name : name.replace(/_(bucket|count|sum)$/, '');
    const type = types.get(family);
    if (type === 'counter' || type === 'histogram' || (type === 'summary' && family !== name)) out.counters.add(name);
  }
}

export interface ExposedSeries {
  /** Every series name a dashboard may select. */
  names: Set<string>;
  counters: Set<string>;
}

export async function exposedSeries(t: Thresholds): Promise<ExposedSeries> {
  const out: ExposedSeries = { names: new Set(['up', 'scrape_duration_seconds']), counters: new Set() };
  for (const file of readdirSync(GOLDEN).filter((f) => f.endsWith('.prom')))
    addExposition(readFileSync(join(GOLDEN, file), 'utf8'), out);
  const registry = new Registry();
  registerRuntimeMetrics(registry);
  addExposition(await registry.metrics(), out);
  for (const group of Object.values(ruleFiles(t)).flat()) {
    for (const rule of group.rules) if (!isAlert(rule)) out.names.add(rule.record);
  }
  return out;
}
