import type { CommandLatency, CommandStat } from '../../parsers/redis-info.js';
import { rowsFamily, seriesFamily, type Series } from '../collector.js';

/*
 * INFO commandstats (`cmdstat_<cmd>:calls=..,usec=..,failed_calls=..`) and INFO latencystats
 * (`latency_percentiles_usec_<cmd>:p50=..,p99=..`), parsed by parsers/redis-info.ts into CommandStat and
 * CommandLatency; the families below read their fields.
 */

/** Microseconds per second: divide (one correctly rounded operation) rather than multiply by 1e-6. */
const USEC_PER_SECOND = 1e6;

const CMD = ['cmd'] as const;
const cmd = (s: CommandStat): string[] => [s.cmd];

export const COMMANDSTATS_FAMILIES = [
  rowsFamily(
    {
      name: 'crm_redis_commands_total',
      help: 'INFO commandstats cmdstat_<cmd> calls (calls that reached execution).',
      type: 'counter',
      labelNames: CMD,
    },
    cmd,
    (s: CommandStat) => s.calls,
  ),
  rowsFamily(
    {
      name: 'crm_redis_commands_duration_seconds_total',
      help: 'INFO commandstats cmdstat_<cmd> usec, in seconds (CPU time spent executing the command).',
      type: 'counter',
      labelNames: CMD,
      unit: 'seconds',
    },
    cmd,
    (s: CommandStat) => s.usec / USEC_PER_SECOND,
  ),
  rowsFamily(
    {
      name: 'crm_redis_commands_failed_total',
      help: 'INFO commandstats cmdstat_<cmd> failed_calls (errors from within the command; Redis 6.2+).',
      type: 'counter',
      labelNames: CMD,
    },
    cmd,
    (s: CommandStat) => s.failedCalls,
  ),
];

/**
 * Redis's latencystats are server-side percentiles of each command's latency since the last CONFIG RESETSTAT: a
 * summary made of quantiles alone (Prometheus reserves the `quantile` label for summaries, and OpenMetrics allows
 * a summary without `_count` and `_sum`, which would duplicate crm_redis_commands_total and
 * crm_redis_commands_duration_seconds_total).
 */
export const LATENCYSTATS_FAMILY = seriesFamily(
  {
    name: 'crm_redis_command_latency_seconds',
    help: 'INFO latencystats latency_percentiles_usec_<cmd>, in seconds (server-side percentiles since start or CONFIG RESETSTAT; Redis 7+).',
    type: 'summary',
    labelNames: ['cmd', 'quantile'],
    unit: 'seconds',
  },
  function* (latency: readonly CommandLatency[]): Iterable<Series> {
    for (const entry of latency)
      for (const p of entry.percentiles) yield [[entry.cmd, p.quantile], p.usec / USEC_PER_SECOND];
  },
);
