import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerWebMetrics } from '../../src/exporter/metrics/web.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/** The web config layer's families after a good load, a failed reload and a few refusals; the timestamp normalised. */
async function webExposition(): Promise<string> {
  const registry = new Registry();
  const metrics = registerWebMetrics(registry);
  metrics.reloaded(true);
  metrics.reloaded(false);
  metrics.rejected('unauthorized');
  metrics.rejected('unauthorized');
  metrics.rejected('tls_handshake');
  return (await registry.metrics()).replace(
    /^(crm_exporter_web_config_last_reload_success_timestamp_seconds) \S+$/m,
    '$1 <timestamp>',
  );
}

describe('web config metrics', () => {
  it('match the golden file', async () => {
    await expect(await webExposition()).toMatchFileSnapshot('../golden/web.prom');
  });

  it('pass promtool check metrics', async () => {
    expect(promtoolCheckMetrics((await webExposition()).replace('<timestamp>', '1700000000'))).toBe('');
  });
});
