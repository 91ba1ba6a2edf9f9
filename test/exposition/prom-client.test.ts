import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  collectDefaultMetrics,
  Gauge,
  Registry,
  validateMetricName,
} from '../../src/exporter/exposition/prom-client.js';

// exposition/prom-client.ts requires prom-client's files one by one; each must be what the package's index exports,
// or a prom-client release that moved one would give the exporter a different class than its types describe.
describe('prom-client parts required from their own files', () => {
  it('are the very objects the index exports', () => {
    expect(Registry).toBe(promClient.Registry);
    expect(Gauge).toBe(promClient.Gauge);
    expect(validateMetricName).toBe(promClient.validateMetricName);
    expect(collectDefaultMetrics).toBe(promClient.collectDefaultMetrics);
  });

  it('work: a registry renders a gauge and the default metrics', async () => {
    const registry = new Registry();
    new Gauge({ name: 'x_value', help: 'x', registers: [registry] }).set(2);
    collectDefaultMetrics({ register: registry });
    const text = await registry.metrics();
    expect(text).toContain('x_value 2');
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(validateMetricName('a:b_c')).toBe(true);
    expect(validateMetricName('1a')).toBe(false);
  });
});
