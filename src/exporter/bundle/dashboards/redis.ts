import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { num } from '../rules/promql.js';
import { serviceNames } from '../rules/recording.js';
import type { Thresholds } from '../thresholds-schema.js';
import { alertSteps, judged } from './alert-view.js';
import { buildDashboard, JOB_INSTANCE as P } from './dashboard.js';
import { neutral, row, statPanel, timeseriesPanel } from './panels.js';

const rate = (metric: string) => `rate(${metric}{${P}}[$__rate_interval])`;

/** Redis as the exporter's redis collector sees it (crm_redis_*): the CRM's cache and locks. */
export function redisDashboard(t: Thresholds, source: string): Dashboard {
  const n = serviceNames(t.evaluation.rate_window);
  const a = t.alerts;
  const items = [
    row('Health'),
    statPanel({
      title: 'Redis readable',
      description: '1 when the exporter read INFO from Redis in its last scrape: red where CrmRedisDown fires.',
      unit: 'none',
      queries: [{ expr: `crm_redis_up{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmRedisDown', 'below', 1),
      width: 6,
    }),
    statPanel({
      title: 'Hit ratio',
      description: `Key lookups that found their key over ${t.evaluation.rate_window}, shown from ${num(a.CrmRedisHitRatioLow.min_lookups_per_second)} lookups/s: red where CrmRedisHitRatioLow fires.`,
      unit: 'percentunit',
      decimals: 1,
      queries: [
        {
          expr: judged(
            t,
            'CrmRedisHitRatioLow',
            `${n.redisHitRatio}{${P}}`,
            'job, instance',
            `${n.redisLookups}{${P}}`,
            a.CrmRedisHitRatioLow.min_lookups_per_second,
          ),
          legend: '{{instance}}',
        },
      ],
      thresholds: alertSteps(t, 'CrmRedisHitRatioLow', 'below', a.CrmRedisHitRatioLow.threshold),
      width: 6,
    }),
    statPanel({
      title: 'Memory used of maxmemory',
      description:
        'used_memory as a share of maxmemory (no data when maxmemory is 0, no limit): red where CrmRedisMemoryNearMax fires.',
      unit: 'percentunit',
      decimals: 1,
      queries: [{ expr: `${n.redisMemoryRatio}{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmRedisMemoryNearMax', 'above', a.CrmRedisMemoryNearMax.threshold),
      width: 6,
    }),
    statPanel({
      title: 'Slow log length',
      description:
        'Entries in the Redis slow log (SLOWLOG LEN, capped by slowlog-max-len): commands slower than slowlog-log-slower-than.',
      unit: 'none',
      queries: [{ expr: `crm_redis_slowlog_length{${P}}`, legend: '{{instance}}' }],
      thresholds: neutral,
      width: 6,
    }),
    row('Cache'),
    timeseriesPanel({
      title: 'Hit ratio over time',
      description: `Share of key lookups that found their key over ${t.evaluation.rate_window}. Dashed: the threshold of CrmRedisHitRatioLow.`,
      unit: 'percentunit',
      queries: [{ expr: `${n.redisHitRatio}{${P}}`, legend: '{{instance}}' }],
      thresholds: alertSteps(t, 'CrmRedisHitRatioLow', 'below', a.CrmRedisHitRatioLow.threshold),
    }),
    timeseriesPanel({
      title: 'Memory',
      description: 'Bytes allocated by Redis against maxmemory (not drawn when 0: no limit).',
      unit: 'bytes',
      queries: [
        { expr: `crm_redis_memory_used_bytes{${P}}`, legend: 'used {{instance}}' },
        { expr: `crm_redis_memory_max_bytes{${P}} > 0`, legend: 'maxmemory {{instance}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Evictions and expirations',
      description: `Keys evicted to stay under maxmemory and keys expired, per second. Dashed: the eviction rate above which CrmRedisEvictions fires (${num(a.CrmRedisEvictions.threshold)}/s).`,
      unit: 'ops',
      queries: [
        { expr: `sum(${rate('crm_redis_evicted_keys_total')})`, legend: 'evicted' },
        { expr: `sum(${rate('crm_redis_expired_keys_total')})`, legend: 'expired' },
      ],
      thresholds: alertSteps(t, 'CrmRedisEvictions', 'above', a.CrmRedisEvictions.threshold),
    }),
    timeseriesPanel({
      title: 'Key groups',
      description:
        'Keys per configured key group (CRM cache entries, held locks ...), counted with SCAN; a lower bound where the scan was truncated.',
      unit: 'short',
      queries: [
        { expr: `crm_redis_key_group_keys{${P}}`, legend: '{{group}}' },
        { expr: `sum by (db) (crm_redis_db_keys{${P}})`, legend: 'all keys db{{db}}' },
      ],
    }),
    row('Commands and clients'),
    timeseriesPanel({
      title: 'Commands by command',
      description: 'Calls per second by command (commandstats), stacked.',
      unit: 'ops',
      stack: true,
      queries: [{ expr: `sum by (cmd) (${rate('crm_redis_commands_total')})`, legend: '{{cmd}}' }],
    }),
    timeseriesPanel({
      title: 'Time by command',
      description:
        'CPU time Redis spends executing each command, stacked: 100 % is its single thread busy all the time.',
      unit: 'percentunit',
      stack: true,
      queries: [{ expr: `sum by (cmd) (${rate('crm_redis_commands_duration_seconds_total')})`, legend: '{{cmd}}' }],
    }),
    timeseriesPanel({
      title: 'Latency percentiles',
      description:
        'Server-side latency percentiles per command as Redis computes them (latencystats, Redis 7+), since start or CONFIG RESETSTAT.',
      unit: 's',
      queries: [
        { expr: `max by (cmd, quantile) (crm_redis_command_latency_seconds{${P}})`, legend: '{{cmd}} p{{quantile}}' },
      ],
    }),
    timeseriesPanel({
      title: 'Clients',
      description:
        'Connected and blocked clients, and connections refused per second because of maxclients (CrmRedisRejectedConnections).',
      unit: 'short',
      queries: [
        { expr: `sum(crm_redis_connected_clients{${P}})`, legend: 'connected' },
        { expr: `sum(crm_redis_blocked_clients{${P}})`, legend: 'blocked' },
        { expr: `sum(${rate('crm_redis_rejected_connections_total')})`, legend: 'rejected/s' },
      ],
    }),
    timeseriesPanel({
      title: 'Slow log',
      description: 'Entries in the slow log over time: a rise means commands slower than slowlog-log-slower-than.',
      unit: 'short',
      queries: [{ expr: `crm_redis_slowlog_length{${P}}`, legend: '{{instance}}' }],
    }),
  ];
  return buildDashboard(
    {
      uid: 'crm-redis',
      summary: 'Redis under the CRM: hit ratio, memory, evictions, clients, commands and key groups.',
      tags: ['redis'],
      items,
    },
    source,
  );
}
