/**
 * The access-log families in a registry: one `LogMetrics` per registry (see `logMetricsFor`) registers every family
 * of families.ts with exposition/family.ts, the one way a scrape-time family is defined and rendered; each log
 * source adds a `LogSourceSeries` (series.ts), its aggregator, with the `log` label value and its path labels, and
 * the families read every source's totals at scrape time.
 */

import type { Registry } from 'prom-client';
import { registerFamily } from '../exposition/family.js';
import { LOG_METRIC_DEFINITIONS } from './families.js';
import { LogSourceSeries, type LogSourceSeriesOptions } from './series.js';

/** All access-log families of one registry. */
export class LogMetrics {
  private readonly sources: LogSourceSeries[] = [];

  constructor(registry: Registry) {
    const sources = this.sources;
    for (const def of LOG_METRIC_DEFINITIONS)
      registerFamily(registry, def, (emit) => {
        for (const s of sources) s.visit(def.name, emit);
      });
  }

  /** Adds a log source; its series appear in the exposition from now on. */
  addSource(opts: LogSourceSeriesOptions): LogSourceSeries {
    const s = new LogSourceSeries(opts);
    if (this.sources.some((o) => o.name === s.name && o.extra?.text === s.extra?.text))
      throw new Error(`log source "${opts.name}" is already registered`);
    this.sources.push(s);
    return s;
  }

  /** Removes a log source's series (e.g. a test that rebuilds a pipeline on the same registry). */
  removeSource(source: LogSourceSeries): void {
    const i = this.sources.indexOf(source);
    if (i >= 0) this.sources.splice(i, 1);
  }
}

const perRegistry = new WeakMap<Registry, LogMetrics>();

/** The access-log families of `registry`, registering them on first use (every log source shares them). */
export function logMetricsFor(registry: Registry): LogMetrics {
  let m = perRegistry.get(registry);
  if (m === undefined) {
    m = new LogMetrics(registry);
    perRegistry.set(registry, m);
  }
  return m;
}
