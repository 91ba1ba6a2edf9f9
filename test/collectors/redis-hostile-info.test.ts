import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { registerRedisFamilies } from '../../src/exporter/collectors/redis/collector.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';
import { parseRedisInfo } from '../../src/exporter/parsers/redis-info.js';
import { checkExposition } from '../helpers/exposition.js';
import { hostileRedisInfo, hostileString } from '../helpers/hostile.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';

/*
 * Issue 11 B5: what a Redis (or something speaking its protocol: a proxy, a fork, a man in the middle) puts in INFO
 * reaches the exposition as label values (version, mode, role, command names) and sample values. Whatever INFO the
 * parser accepts, rendering the snapshot never throws (a throw would drop every Redis series of the scrape) and the
 * exposition is well formed; promtool accepts a sample of them.
 */
const real = readFileSync(fileURLToPath(new URL('../fixtures/redis/info-7.txt', import.meta.url)), 'utf8');

describe('Redis INFO to exposition under hostile replies', () => {
  it('writes every accepted snapshot and serves well-formed, escaped lines', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        hostileRedisInfo(real),
        fc.array(fc.tuple(hostileString(10), fc.nat(), fc.boolean()), { maxLength: 3 }),
        async (text, groups) => {
          const r = parseRedisInfo(text);
          if (!r.ok) return;
          const registry = new Registry();
          const snapshot = {
            info: r.info,
            slowlogLength: 3,
            keyGroups: groups.map(([name, keys, truncated]) => ({ name, keys, truncated })),
          };
          registerRedisFamilies(registry, () => snapshot);
          const exposition = await renderPrometheusText(registry);
          checkExposition(exposition, false);
          if (checked < 5 && /\\[\\"n]/.test(exposition)) {
            checked++;
            expect(promtoolCheckMetrics(exposition), 'promtool check metrics').toBe('');
          }
        },
      ),
      { numRuns: 800 },
    );
  });
});
