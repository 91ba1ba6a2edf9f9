import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Collector } from './collector.js';

/**
 * The single list of scrape-time collectors (STYLE.md pattern 5): each entry builds its collector when its
 * config section is present. main.ts builds exactly these; tests and docs read the names from here.
 */
export const COLLECTOR_FACTORIES: Readonly<Record<string, (config: Config, registry: Registry) => Collector | undefined>> = {};

export function buildCollectors(config: Config, registry: Registry): Collector[] {
  return Object.values(COLLECTOR_FACTORIES)
    .map((factory) => factory(config, registry))
    .filter((c): c is Collector => c !== undefined);
}
