import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Collector } from '../../src/exporter/collectors/collector.js';
import { CollectorOrchestrator } from '../../src/exporter/collectors/orchestrator.js';
import { registerBuildInfo } from '../../src/exporter/metrics/build-info.js';
import { registerPositionsHealth } from '../../src/exporter/logs/positions-health.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/** The exporter's own metrics (build info, scrape health, positions file) with run-dependent durations normalised. */
async function coreExposition(): Promise<string> {
  const registry = new Registry();
  registerBuildInfo(registry, '1.0.0');
  registerPositionsHealth(registry, { lastWriteOk: false, writeErrors: 3 });
  const ok: Collector = { name: 'ok', served: undefined, update: async () => ({}), close: async () => undefined };
  const failing: Collector = {
    name: 'failing',
    served: undefined,
    update: async () => Promise.reject(new Error('down')),
    close: async () => undefined,
  };
  const orchestrator = new CollectorOrchestrator({ registry, collectors: [ok, failing], log: () => undefined });
  await orchestrator.run(1000);
  return (await registry.metrics()).replace(/(crm_scrape_collector_duration_seconds\{[^}]*\}) \S+/g, '$1 <duration>');
}

describe('core exposition', () => {
  it('matches the golden file', async () => {
    await expect(await coreExposition()).toMatchFileSnapshot('../golden/core.prom');
  });

  it('passes promtool check metrics', async () => {
    const text = (await coreExposition()).replace(/<duration>/g, '0.001');
    expect(promtoolCheckMetrics(text)).toBe('');
  });
});
