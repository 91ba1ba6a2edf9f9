import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerRuntimeMetrics } from '../../src/exporter/metrics/runtime.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

describe('runtime metrics', () => {
  it('serves prom-client defaults that promtool accepts', async () => {
    const registry = new Registry();
    registerRuntimeMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(text).toContain('# TYPE nodejs_active_handles gauge');
    expect(text).not.toContain('nodejs_active_handles_total');
    expect(promtoolCheckMetrics(text)).toBe('');
  });
});
