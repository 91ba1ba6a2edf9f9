import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Collector } from './collector.js';
import { PostgresCollector } from './postgres/collector.js';
import { ProbeCollector } from './probe/collector.js';
import { RedisCollector } from './redis/collector.js';

/**
 * The single list of scrape-time collectors (docs/ARCHITECTURE.md, "Where new code goes"): each entry builds its collector when its
 * config section is present. main.ts builds exactly these; tests and docs read the names from here.
 */
type Log = (line: string) => void;

export const COLLECTOR_FACTORIES: Readonly<
  Record<string, (config: Config, registry: Registry, log?: Log) => Collector | undefined>
> = {
  postgres: (config, registry, log) =>
    config.postgres ? new PostgresCollector({ config: config.postgres, registry, log }) : undefined,
  // Redis logs nothing of its own: its failures are the orchestrator's to log.
  redis: (config, registry) => (config.redis ? new RedisCollector({ config: config.redis, registry }) : undefined),
  probe: (config, registry, log) =>
    config.probe ? new ProbeCollector({ config: config.probe, registry, log }) : undefined,
};

/** Builds the configured collectors; `log` receives their info and problem lines (default: stderr). */
export function buildCollectors(config: Config, registry: Registry, log?: Log): Collector[] {
  return Object.values(COLLECTOR_FACTORIES)
    .map((factory) => factory(config, registry, log))
    .filter((c): c is Collector => c !== undefined);
}
