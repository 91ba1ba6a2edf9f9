/**
 * The access-log families (exposition/family.ts definitions: names, types, labels and HELP are public API), in
 * exposition order, and the size bound of one log source's share of /metrics. series.ts holds the values,
 * log-metrics.ts registers the families and hands them the samples at scrape time.
 */

import { DEFAULT_BUCKETS } from '../config/buckets.js';
import { defineFamily, type FamilyDefinition } from '../exposition/family.js';
import { OUTCOME_COUNT } from '../parsers/outcomes.js';
import { PARSE_ERROR_REASONS } from '../parsers/request-fields.js';

export const HTTP_REQUESTS_TOTAL = 'crm_http_requests_total';
export const HTTP_REQUEST_DURATION_SECONDS = 'crm_http_request_duration_seconds';
export const HTTP_RESPONSE_SIZE_BYTES_TOTAL = 'crm_http_response_size_bytes_total';
export const HTTP_REQUEST_PHASE_SECONDS_TOTAL = 'crm_http_request_phase_seconds_total';
export const CACHE_LOOKUPS_TOTAL = 'crm_cache_lookups_total';
export const LOCK_ACQUISITIONS_TOTAL = 'crm_lock_acquisitions_total';
export const LOCK_WAIT_SECONDS_TOTAL = 'crm_lock_wait_seconds_total';
export const LOG_LINES_TOTAL = 'crm_log_lines_total';
export const LOG_PARSE_ERRORS_TOTAL = 'crm_log_parse_errors_total';
export const LOG_BYTES_READ_TOTAL = 'crm_log_bytes_read_total';
export const LOG_ROTATIONS_TOTAL = 'crm_log_rotations_total';
export const LOG_LAG_BYTES = 'crm_log_lag_bytes';
export const LOG_LAST_READ_TIMESTAMP_SECONDS = 'crm_log_last_read_timestamp_seconds';
export const LOG_ROUTES_OVERFLOW_TOTAL = 'crm_log_routes_overflow_total';
export const LOG_ROUTES_TRUNCATED_TOTAL = 'crm_log_routes_truncated_total';

/** A log family: `log` first, then the source's path labels if it has any (docs/container-logs.md), then the rest. */
const logFamily = (def: Omit<FamilyDefinition, 'extraLabelsAfter'>): FamilyDefinition =>
  defineFamily({ ...def, extraLabelsAfter: 1 });

/** Every family this module serves, in exposition order (names, types, labels and HELP are public API). */
export const LOG_METRIC_DEFINITIONS: readonly FamilyDefinition[] = [
  logFamily({
    name: HTTP_REQUESTS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'method', 'route', 'status'],
    help: 'Requests counted from access log lines (one per parsed line), by HTTP method, route template and status code.',
  }),
  logFamily({
    name: HTTP_REQUEST_DURATION_SECONDS,
    unit: 'seconds',
    // the default; each source's own `buckets` are its `le` values (series.ts emits them)
    buckets: DEFAULT_BUCKETS,
    // Observed in series.ts from RequestFields.duration (seconds), which each format's parser sets:
    // parsers/json-line.ts (the `duration` field, `duration_unit`), parsers/nginx-codegen.ts ($request_time, in
    // the generated parse function), parsers/regex-line.ts (the `duration` or `duration_ms` group).
    // test/logs/golden.test.ts and test/golden/{json,nginx,regex}.prom pin the result for each format.
    type: 'histogram',
    labelNames: ['log', 'method', 'route'],
    help: 'Request duration from the access log (nginx $request_time, or the duration field/group), in seconds.',
  }),
  logFamily({
    name: HTTP_RESPONSE_SIZE_BYTES_TOTAL,
    unit: 'bytes',
    type: 'counter',
    labelNames: ['log', 'method', 'route'],
    help: 'Response body bytes from the access log (nginx $body_bytes_sent or $bytes_sent, or the bytes field/group).',
  }),
  logFamily({
    name: HTTP_REQUEST_PHASE_SECONDS_TOTAL,
    unit: 'seconds',
    type: 'counter',
    labelNames: ['log', 'route', 'phase'],
    help:
      'Request time per phase from the access log, in seconds: upstream (nginx $upstream_response_time), network ($request_time minus upstream), ' +
      'db and cache (the db/cache time fields), app (duration minus db and cache).',
  }),
  logFamily({
    name: CACHE_LOOKUPS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'route', 'result'],
    help: 'Cache outcomes reported in the access log (cache field, nginx $upstream_cache_status): hit, miss, bypass or other.',
  }),
  logFamily({
    name: LOCK_ACQUISITIONS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'route', 'result'],
    help: 'Lock outcomes reported in the access log (lock field): acquired, contended, timeout or other.',
  }),
  logFamily({
    name: LOCK_WAIT_SECONDS_TOTAL,
    unit: 'seconds',
    type: 'counter',
    labelNames: ['log', 'route'],
    help: 'Time spent waiting for locks, from the access log lock wait field, in seconds.',
  }),
  logFamily({
    name: LOG_LINES_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Lines read from the log file, parsed or not (oversized lines included).',
  }),
  logFamily({
    name: LOG_PARSE_ERRORS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'reason'],
    help: 'Log lines that were not counted as requests, by reason (see docs/metrics.md).',
  }),
  logFamily({
    name: LOG_BYTES_READ_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Bytes read from the log file (and rotated copies of it) by the tailer.',
  }),
  logFamily({
    name: LOG_ROTATIONS_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Rotations seen by the tailer: a new file at the path (rename or delete and create) or content truncated in place (copytruncate).',
  }),
  logFamily({
    name: LOG_LAG_BYTES,
    unit: 'bytes',
    type: 'gauge',
    labelNames: ['log'],
    help: 'Bytes written to the log file but not yet processed (file size at the last check minus the consumed offset).',
  }),
  logFamily({
    name: LOG_LAST_READ_TIMESTAMP_SECONDS,
    unit: 'seconds',
    type: 'gauge',
    labelNames: ['log'],
    help: 'Unix time of the last read that returned data from the log file.',
  }),
  logFamily({
    name: LOG_ROUTES_OVERFLOW_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Lines whose route was replaced by __other__ because max_routes distinct routes already existed for the log.',
  }),
  logFamily({
    name: LOG_ROUTES_TRUNCATED_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Lines whose route was longer than max_route_length characters and was cut to its longest prefix ending in / followed by *.',
  }),
];

/** The `phase` label values of crm_http_request_phase_seconds_total. */
export const PHASES = ['upstream', 'network', 'db', 'cache', 'app'] as const;
export const PHASE_COUNT = PHASES.length;

export interface SizeBoundInput {
  maxRoutes: number;
  maxRouteLength: number;
  /** Histogram buckets of the source. */
  buckets: number;
  /** Distinct status codes in the log (at most 500). */
  statuses: number;
}

/** Families with a `route` label, per route: method x (status | histogram lines | bytes), phases, outcomes, wait. */
function routeSamples({ maxRoutes, buckets, statuses }: SizeBoundInput, methods: number): number {
  const routes = maxRoutes + 2; // + __other__, __none__
  return routes * (methods * (statuses + buckets + 3 + 1) + PHASE_COUNT + 2 * OUTCOME_COUNT + 1);
}

/**
 * Upper bound of one log source's share of /metrics, in bytes (docs/metrics.md, "Size of /metrics"): every sample
 * line is at most 3 bytes per route character (a UTF-16 unit is at most 3 UTF-8 bytes; an escaped `"` or `\` 2)
 * plus 256 bytes for the name, the other labels (a log name has at most 64 ASCII characters) and the value; plus the
 * label-free health series and every family's HELP and TYPE lines.
 */
export function metricsSizeBound(input: SizeBoundInput, methods = 10): number {
  const samples = routeSamples(input, methods) + 16 + PARSE_ERROR_REASONS.length;
  const header = LOG_METRIC_DEFINITIONS.reduce((n, d) => n + 2 * (d.name.length + 16) + d.help.length, 0);
  return samples * (3 * input.maxRouteLength + 256) + header;
}
