import type { Thresholds } from '../thresholds-schema.js';
import { leMatcher, rateName, selectors } from './promql.js';
import type { RecordingRule, RuleGroup } from './types.js';

/*
 * The four numbers and their parts, recorded once so that alerts and dashboards read cheap, consistent series.
 * Zero traffic never yields NaN or Inf: every ratio divides by `(denominator > 0)`, so it is absent (no data)
 * while nothing happens, and a numerator whose series do not exist yet (no 5xx ever logged) counts as 0.
 */

/** Names of the service recording rules for a rate window, shared by the alerts and the dashboards. */
export function serviceNames(rateWindow: string) {
  const r = rateName(rateWindow);
  return {
    requests: `job_log:crm_http_requests:${r}`,
    errors: `job_log:crm_http_requests_errors:${r}`,
    errorRatio: `job_log:crm_http_requests_errors:ratio_${r}`,
    routeRequests: `job_log_route:crm_http_requests:${r}`,
    routeErrors: `job_log_route:crm_http_requests_errors:${r}`,
    routeErrorRatio: `job_log_route:crm_http_requests_errors:ratio_${r}`,
    routeBuckets: `job_log_route_le:crm_http_request_duration_seconds_bucket:${r}`,
    routeCount: `job_log_route:crm_http_request_duration_seconds_count:${r}`,
    routeQuantile: (q: 'p50' | 'p95' | 'p99') => `job_log_route:crm_http_request_duration_seconds:${q}_${r}`,
    buckets: `job_log_le:crm_http_request_duration_seconds_bucket:${r}`,
    count: `job_log:crm_http_request_duration_seconds_count:${r}`,
    quantile: (q: 'p50' | 'p95' | 'p99') => `job_log:crm_http_request_duration_seconds:${q}_${r}`,
    apdex: `job_log:crm_http_requests_apdex:ratio_${r}`,
    routeApdex: `job_log_route:crm_http_requests_apdex:ratio_${r}`,
    phases: `job_log_phase:crm_http_request_phase_seconds:${r}`,
    phaseShare: `job_log_phase:crm_http_request_phase_seconds:share_${r}`,
    phaseMean: `job_log_phase:crm_http_request_phase_seconds:mean_${r}`,
    cacheLookups: `job_log_result:crm_cache_lookups:${r}`,
    cacheHitRatio: `job_log:crm_cache_lookups_hit:ratio_${r}`,
    locks: `job_log_result:crm_lock_acquisitions:${r}`,
    lockContention: `job_log:crm_lock_acquisitions_contended:ratio_${r}`,
    probeAvailability: `job:crm_probe_success:avg${rateWindow}`,
    upAvailability: `job:up:avg${rateWindow}`,
    parseErrorRatio: `job_instance_log:crm_log_parse_errors:ratio_${r}`,
    pgCacheHitRatio: `instance_database:crm_pg_blocks_hit:ratio_${r}`,
    pgBlocks: `instance_database:crm_pg_blocks_accessed:${r}`,
    pgConnectionsRatio: 'instance:crm_pg_connections:ratio',
    redisHitRatio: `instance:crm_redis_keyspace_hits:ratio_${r}`,
    redisLookups: `instance:crm_redis_keyspace_lookups:${r}`,
    redisMemoryRatio: 'instance:crm_redis_memory_used:ratio',
  };
}

export type ServiceNames = ReturnType<typeof serviceNames>;

const QUANTILES = [
  ['p50', 0.5],
  ['p95', 0.95],
  ['p99', 0.99],
] as const;

export function serviceRecordingGroup(t: Thresholds): RuleGroup {
  const w = t.evaluation.rate_window;
  const n = serviceNames(w);
  const s = selectors(t);
  const rules: RecordingRule[] = [
    // Throughput Q and error ratio E, per route, then per log from the routes' recorded rates: the raw counters are
    // read twice (every status, then the 5xx), not six times (bench:scale: the raw reads are the group's cost).
    {
      record: n.routeRequests,
      expr: `sum by (cluster, job, log, route) (rate(crm_http_requests_total{${s.http}}[${w}]))`,
    },
    {
      record: n.routeErrors,
      expr: `sum by (cluster, job, log, route) (rate(crm_http_requests_total{${s.http}, status=~"5.."}[${w}]))\nor\n0 * ${n.routeRequests}`,
    },
    { record: n.routeErrorRatio, expr: `${n.routeErrors} / (${n.routeRequests} > 0)` },
    { record: n.requests, expr: `sum by (cluster, job, log) (${n.routeRequests})` },
    { record: n.errors, expr: `sum by (cluster, job, log) (${n.routeErrors})` },
    { record: n.errorRatio, expr: `${n.errors} / (${n.requests} > 0)` },
    // Response time T: quantiles from the histogram, only where requests were observed (no NaN from 0/0).
    {
      record: n.routeBuckets,
      expr: `sum by (cluster, job, log, route, le) (rate(crm_http_request_duration_seconds_bucket{${s.http}}[${w}]))`,
    },
    {
      record: n.routeCount,
      expr: `sum by (cluster, job, log, route) (rate(crm_http_request_duration_seconds_count{${s.http}}[${w}]))`,
    },
    ...QUANTILES.map(([q, v]) => ({
      record: n.routeQuantile(q),
      expr: `histogram_quantile(${v}, ${n.routeBuckets} and on (cluster, job, log, route) (${n.routeCount} > 0))`,
    })),
    { record: n.buckets, expr: `sum by (cluster, job, log, le) (${n.routeBuckets})` },
    { record: n.count, expr: `sum by (cluster, job, log) (${n.routeCount})` },
    ...QUANTILES.map(([q, v]) => ({
      record: n.quantile(q),
      expr: `histogram_quantile(${v}, ${n.buckets} and on (cluster, job, log) (${n.count} > 0))`,
    })),
  ];
  if (t.apdex.enabled) {
    // Apdex = (satisfied + tolerating / 2) / total = (bucket(T) + bucket(4T)) / 2 / total.
    const T = leMatcher(t.apdex.t);
    const T4 = leMatcher(Number((t.apdex.t * 4).toPrecision(12)));
    rules.push(
      {
        record: n.apdex,
        expr: `(sum by (cluster, job, log) (${n.buckets}{${T}}) + sum by (cluster, job, log) (${n.buckets}{${T4}})) / 2\n/ (${n.count} > 0)`,
      },
      {
        record: n.routeApdex,
        expr: `(sum by (cluster, job, log, route) (${n.routeBuckets}{${T}}) + sum by (cluster, job, log, route) (${n.routeBuckets}{${T4}})) / 2\n/ (${n.routeCount} > 0)`,
      },
    );
  }
  rules.push(
    // Where the time goes: seconds per second by phase, its share of the total, and the mean per request.
    {
      record: n.phases,
      expr: `sum by (cluster, job, log, phase) (rate(crm_http_request_phase_seconds_total{${s.http}}[${w}]))`,
    },
    {
      record: n.phaseShare,
      expr: `${n.phases}\n/ on (cluster, job, log) group_left ()\n(sum by (cluster, job, log) (${n.phases}) > 0)`,
    },
    { record: n.phaseMean, expr: `${n.phases}\n/ on (cluster, job, log) group_left ()\n(${n.count} > 0)` },
    // Cache and lock outcomes the log reports.
    {
      record: n.cacheLookups,
      expr: `sum by (cluster, job, log, result) (rate(crm_cache_lookups_total{${s.http}}[${w}]))`,
    },
    {
      record: n.cacheHitRatio,
      expr: `(sum by (cluster, job, log) (${n.cacheLookups}{result="hit"}) or 0 * sum by (cluster, job, log) (${n.cacheLookups}))\n/ (sum by (cluster, job, log) (${n.cacheLookups}) > 0)`,
    },
    {
      record: n.locks,
      expr: `sum by (cluster, job, log, result) (rate(crm_lock_acquisitions_total{${s.http}}[${w}]))`,
    },
    {
      record: n.lockContention,
      expr: `(sum by (cluster, job, log) (${n.locks}{result=~"contended|timeout"}) or 0 * sum by (cluster, job, log) (${n.locks}))\n/ (sum by (cluster, job, log) (${n.locks}) > 0)`,
    },
    // Availability A: the share of successful probes, and of successful scrapes of the exporter.
    { record: n.probeAvailability, expr: `avg by (cluster, job) (avg_over_time(crm_probe_success{${s.job}}[${w}]))` },
    { record: n.upAvailability, expr: `avg by (cluster, job) (avg_over_time(up{${s.job}}[${w}]))` },
    // The log pipeline's own health.
    {
      record: n.parseErrorRatio,
      expr: `sum by (cluster, job, instance, log) (rate(crm_log_parse_errors_total{${s.log}}[${w}]))\n/ (sum by (cluster, job, instance, log) (rate(crm_log_lines_total{${s.log}}[${w}])) > 0)`,
    },
  );
  return { name: 'crm-exporter.service.rules', rules };
}

export function databaseRecordingGroup(t: Thresholds): RuleGroup {
  const w = t.evaluation.rate_window;
  const n = serviceNames(w);
  const s = selectors(t);
  const by = 'sum by (cluster, job, instance, database)';
  return {
    name: 'crm-exporter.databases.rules',
    rules: [
      {
        record: n.pgBlocks,
        expr: `${by} (rate(crm_pg_blocks_hit_total{${s.job}}[${w}])) + ${by} (rate(crm_pg_blocks_read_total{${s.job}}[${w}]))`,
      },
      {
        record: n.pgCacheHitRatio,
        expr: `${by} (rate(crm_pg_blocks_hit_total{${s.job}}[${w}])) / (${n.pgBlocks} > 0)`,
      },
      {
        record: n.pgConnectionsRatio,
        expr: `sum by (cluster, job, instance) (crm_pg_connections{${s.job}})\n/ on (cluster, job, instance)\n(crm_pg_max_connections{${s.job}} > 0)`,
      },
      {
        record: n.redisLookups,
        expr: `sum by (cluster, job, instance) (rate(crm_redis_keyspace_hits_total{${s.job}}[${w}])) + sum by (cluster, job, instance) (rate(crm_redis_keyspace_misses_total{${s.job}}[${w}]))`,
      },
      {
        record: n.redisHitRatio,
        expr: `sum by (cluster, job, instance) (rate(crm_redis_keyspace_hits_total{${s.job}}[${w}])) / (${n.redisLookups} > 0)`,
      },
      // maxmemory 0 means "no limit": no ratio at all rather than +Inf.
      {
        record: n.redisMemoryRatio,
        expr: `crm_redis_memory_used_bytes{${s.job}}\n/ on (cluster, job, instance)\n(crm_redis_memory_max_bytes{${s.job}} > 0)`,
      },
    ],
  };
}
