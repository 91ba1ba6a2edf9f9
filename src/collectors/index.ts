import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Collector } from './collector.js';
import { PostgresCollector } from './postgres.js';
import { ProbeCollector } from './probe.js';
import { RedisCollector } from './redis.js';

/**
 * The single list of scrape-time collectors (STYLE.md pattern 5): each entry builds its collector when its
 * config section is present. main.ts builds exactly these; tests and docs read the names from here.
 */
export const COLLECTOR_FACTORIES: Readonly<Record<string, (config: Config, registry: Registry) => Collector | undefined>> = {
  postgres: (config, registry) => (config.postgres ? new PostgresCollector({ config: config.postgres, registry }) : undefined),
  redis: (config, registry) => (config.redis ? new RedisCollector({ config: config.redis, registry }) : undefined),
  probe: (config, registry) => (config.probe ? new ProbeCollector({ config: config.probe, registry }) : undefined),
};

export function buildCollectors(config: Config, registry: Registry): Collector[] {
  return Object.values(COLLECTOR_FACTORIES)
    .map((factory) => factory(config, registry))
    .filter((c): c is Collector => c !== undefined);
}
