/**
 * Request and pipeline-health metrics from access logs.
 *
 * Lines are aggregated per series in typed arrays (a few array writes per line, no label objects, no Map on the
 * hot path); Prometheus reads the totals at scrape time through prom-client's public custom-metric interface: an
 * object with `name`, `help`, `type` and `get()` returning the family, registered with `registry.registerMetric()`.
 * Calling prom-client's `inc`/`observe` per line would cost several times more than parsing the line.
 *
 * One `LogMetrics` per registry (see `logMetricsFor`) holds every family; each log source adds a
 * `LogSourceSeries`, its aggregator, with the `log` label value.
 */

import type { Metric, Registry } from 'prom-client';
import { METHOD_COUNT, methodName } from '../parsers/http-method.js';
import {
  CACHE_RESULTS,
  LOCK_RESULTS,
  type FieldPresence,
  type ParseErrorReason,
  PARSE_ERROR_REASONS,
  type RequestFields,
} from '../parsers/request-fields.js';

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

type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface LogMetricDefinition {
  name: string;
  type: MetricKind;
  labelNames: readonly string[];
  help: string;
}

/** Every family this module serves, in exposition order (names, types, labels and HELP are public API). */
export const LOG_METRIC_DEFINITIONS: readonly LogMetricDefinition[] = [
  {
    name: HTTP_REQUESTS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'method', 'route', 'status'],
    help: 'Requests counted from access log lines (one per parsed line), by HTTP method, route template and status code.',
  },
  {
    name: HTTP_REQUEST_DURATION_SECONDS,
    type: 'histogram',
    labelNames: ['log', 'method', 'route'],
    help: 'Request duration from the access log (nginx $request_time, or the duration field/group), in seconds.',
  },
  {
    name: HTTP_RESPONSE_SIZE_BYTES_TOTAL,
    type: 'counter',
    labelNames: ['log', 'method', 'route'],
    help: 'Response body bytes from the access log (nginx $body_bytes_sent or $bytes_sent, or the bytes field/group).',
  },
  {
    name: HTTP_REQUEST_PHASE_SECONDS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'route', 'phase'],
    help:
      'Request time per phase from the access log, in seconds: upstream (nginx $upstream_response_time), network ($request_time minus upstream), ' +
      'db and cache (the db/cache time fields), app (duration minus db and cache).',
  },
  {
    name: CACHE_LOOKUPS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'route', 'result'],
    help: 'Cache outcomes reported in the access log (cache field, nginx $upstream_cache_status): hit, miss, bypass or other.',
  },
  {
    name: LOCK_ACQUISITIONS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'route', 'result'],
    help: 'Lock outcomes reported in the access log (lock field): acquired, contended, timeout or other.',
  },
  {
    name: LOCK_WAIT_SECONDS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'route'],
    help: 'Time spent waiting for locks, from the access log lock wait field, in seconds.',
  },
  {
    name: LOG_LINES_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Lines read from the log file, parsed or not (oversized lines included).',
  },
  {
    name: LOG_PARSE_ERRORS_TOTAL,
    type: 'counter',
    labelNames: ['log', 'reason'],
    help: 'Log lines that were not counted as requests, by reason (see docs/metrics.md).',
  },
  {
    name: LOG_BYTES_READ_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Bytes read from the log file (and rotated copies of it) by the tailer.',
  },
  {
    name: LOG_ROTATIONS_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Rotations seen by the tailer: a new file at the path (rename or delete and create) or content truncated in place (copytruncate).',
  },
  {
    name: LOG_LAG_BYTES,
    type: 'gauge',
    labelNames: ['log'],
    help: 'Bytes written to the log file but not yet processed (file size at the last check minus the consumed offset).',
  },
  {
    name: LOG_LAST_READ_TIMESTAMP_SECONDS,
    type: 'gauge',
    labelNames: ['log'],
    help: 'Unix time of the last read that returned data from the log file.',
  },
  {
    name: LOG_ROUTES_OVERFLOW_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Lines whose route was replaced by __other__ because max_routes distinct routes already existed for the log.',
  },
  {
    name: LOG_ROUTES_TRUNCATED_TOTAL,
    type: 'counter',
    labelNames: ['log'],
    help: 'Lines whose route was longer than max_route_length characters and was cut to its longest prefix ending in / followed by *.',
  },
];

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

export const PHASES = ['upstream', 'network', 'db', 'cache', 'app'] as const;
const PH_UPSTREAM = 0;
const PH_NETWORK = 1;
const PH_DB = 2;
const PH_CACHE = 3;
const PH_APP = 4;
const PHASE_COUNT = PHASES.length;
const OUTCOME_COUNT = 4;
/** Statuses 100-599 fit in 9 bits of a series key. */
const STATUS_SLOTS = 512;
const STATUS_TEXT = Array.from({ length: 600 }, (_, i) => String(i));
const statusText = (status: number): string => STATUS_TEXT[status] ?? String(status);

/** What the tailer knows about a source, read at scrape time. */
export interface TailerStats {
  readonly bytesRead: number;
  readonly rotations: number;
  lagBytes(): number;
  /** Epoch ms of the last read with data; 0 = never. */
  readonly lastReadAt: number;
}

export interface LogSourceSeriesOptions {
  /** The `log` label value. */
  name: string;
  /** Histogram upper bounds, strictly increasing, in seconds. */
  buckets: readonly number[];
  /** Parse-error reasons the source's parser can produce (exported from 0). */
  reasons: readonly ParseErrorReason[];
  /** Route label by route id (the route resolver's live array). */
  routes: readonly string[];
  /** Largest route id + 1 the resolver can return (max_routes + 2). */
  routeCapacity: number;
  /** Fields the format carries (phases are exported only for these). */
  has: FieldPresence;
  /** Tailer counters; absent in tests that feed lines directly. */
  tailer?: TailerStats;
  /** Further labels on every sample, after `log` (path labels: name, value pairs); none by default. */
  labels?: readonly (readonly [string, string])[];
  /** The route resolver's count of lines whose route was truncated to max_route_length. */
  routeStats?: { readonly truncated: number };
}

interface Sample {
  value: number;
  labels: Readonly<Record<string, string>>;
  metricName?: string;
}

/** Open-addressing int -> int map (keys ≥ 0). */
class IntMap {
  private keys: Int32Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 256) {
    this.keys = new Int32Array(capacity).fill(-1);
    this.vals = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get(key: number): number {
    const keys = this.keys;
    let s = Math.imul(key, 0x9e3779b1) >>> 0;
    s &= this.mask;
    for (;;) {
      const k = keys[s] as number;
      if (k === key) return this.vals[s] as number;
      if (k === -1) return -1;
      s = (s + 1) & this.mask;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    let s = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    while (this.keys[s] !== -1 && this.keys[s] !== key) s = (s + 1) & this.mask;
    if (this.keys[s] === -1) this.count++;
    this.keys[s] = key;
    this.vals[s] = value;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Int32Array(oldKeys.length * 2).fill(-1);
    this.vals = new Int32Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++)
      if (oldKeys[i] !== -1) this.set(oldKeys[i] as number, oldVals[i] as number);
  }
}

function growF64(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}
function growI32(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
function growU8(a: Uint8Array, size: number): Uint8Array {
  const b = new Uint8Array(size);
  b.set(a);
  return b;
}

/**
 * The aggregator of one log source. `record()` is the hot path; everything else runs per scrape.
 * Series ids: `mr` = one (method, route) pair (histogram and bytes series), `ss` = one (mr, status) pair.
 */
export class LogSourceSeries {
  readonly name: string;
  readonly has: FieldPresence;
  /** Path labels (name, value pairs), and the same as text after the `log` value (`",ns="a` or ''). */
  readonly labels: readonly (readonly [string, string])[];
  readonly labelText: string;
  /** Lines read (good or bad). */
  lines = 0;
  /** Lines counted as requests. */
  requests = 0;
  /** Parse errors by PARSE_ERROR_REASONS index. */
  readonly errors = new Float64Array(PARSE_ERROR_REASONS.length);
  /** Lines whose route became __other__. */
  overflow = 0;
  tailer: TailerStats | undefined;
  private readonly routeStats: { readonly truncated: number } | undefined;

  private readonly reasons: readonly ParseErrorReason[];
  private readonly routes: readonly string[];
  private readonly bounds: Float64Array;
  private readonly nb: number;
  private readonly stride: number;

  // (method, route) series
  private readonly mrIndex: Int32Array;
  private mrCount = 0;
  private mrRoute: Int32Array = new Int32Array(16);
  private mrMethod: Uint8Array = new Uint8Array(16);
  private mrBuckets: Float64Array;
  private mrSum: Float64Array = new Float64Array(16);
  private mrObserved: Uint8Array = new Uint8Array(16);
  private mrBytes: Float64Array = new Float64Array(16);
  private mrBytesSeen: Uint8Array = new Uint8Array(16);
  private mrLastStatus: Int32Array = new Int32Array(16);
  private mrLastSs: Int32Array = new Int32Array(16);
  // (mr, status) series
  private readonly ssIndex = new IntMap(256);
  private ssCount = 0;
  private ssMr: Int32Array = new Int32Array(16);
  private ssStatus: Int32Array = new Int32Array(16);
  private ssValue: Float64Array = new Float64Array(16);
  // per route
  private readonly phase: Float64Array;
  private readonly phaseSeen: Uint8Array;
  private readonly cache: Float64Array;
  private readonly lock: Float64Array;
  private readonly lockWait: Float64Array;
  private readonly lockWaitSeen: Uint8Array;

  /** `le` label values: the bounds, then `+Inf`. */
  private readonly le: readonly string[];

  constructor(opts: LogSourceSeriesOptions) {
    this.name = opts.name;
    this.has = opts.has;
    this.labels = opts.labels ?? [];
    this.labelText = this.labels.map(([k, v]) => `",${k}="${escapeLabelValue(v)}`).join('');
    this.reasons = opts.reasons;
    this.routes = opts.routes;
    this.tailer = opts.tailer;
    this.routeStats = opts.routeStats;
    this.bounds = Float64Array.from(opts.buckets);
    this.nb = opts.buckets.length;
    this.stride = this.nb + 1;
    this.le = [...opts.buckets.map(String), '+Inf'];
    this.mrBuckets = new Float64Array(16 * this.stride);
    const r = opts.routeCapacity;
    this.mrIndex = new Int32Array(r * METHOD_COUNT);
    this.phase = new Float64Array(r * PHASE_COUNT);
    this.phaseSeen = new Uint8Array(r * PHASE_COUNT);
    this.cache = new Float64Array(r * OUTCOME_COUNT);
    this.lock = new Float64Array(r * OUTCOME_COUNT);
    this.lockWait = new Float64Array(r);
    this.lockWaitSeen = new Uint8Array(r);
  }

  /** Counts one parsed request of route `route` (a route id < routeCapacity). */
  record(f: RequestFields, route: number): void {
    this.requests++;
    const mKey = route * METHOD_COUNT + f.method;
    let mr = (this.mrIndex[mKey] as number) - 1;
    if (mr < 0) mr = this.addMr(mKey, route, f.method);

    // the last status seen per (method, route) answers most lookups without the hash map
    const status = f.status;
    let ss: number;
    if (this.mrLastStatus[mr] === status) ss = this.mrLastSs[mr] as number;
    else {
      const ssKey = mr * STATUS_SLOTS + (status - 100);
      ss = this.ssIndex.get(ssKey);
      if (ss < 0) ss = this.addSs(ssKey, mr, status);
      this.mrLastStatus[mr] = status;
      this.mrLastSs[mr] = ss;
    }
    this.ssValue[ss] = (this.ssValue[ss] as number) + 1;

    const d = f.duration;
    if (d === d) {
      const bounds = this.bounds;
      const nb = this.nb;
      let k = 0;
      while (k < nb && d > (bounds[k] as number)) k++;
      this.mrBuckets[mr * this.stride + k] = (this.mrBuckets[mr * this.stride + k] as number) + 1;
      this.mrSum[mr] = (this.mrSum[mr] as number) + d;
      this.mrObserved[mr] = 1;
    }
    const bytes = f.bytes;
    if (bytes === bytes) {
      this.mrBytes[mr] = (this.mrBytes[mr] as number) + bytes;
      this.mrBytesSeen[mr] = 1;
    }

    const has = this.has;
    const p = route * PHASE_COUNT;
    if (has.upstream) {
      // nginx writes "-" when it answered without an upstream: all of the time is then its own.
      const u = f.upstream === f.upstream ? f.upstream : 0;
      this.phase[p + PH_UPSTREAM] = (this.phase[p + PH_UPSTREAM] as number) + u;
      this.phaseSeen[p + PH_UPSTREAM] = 1;
      if (d === d) {
        this.phase[p + PH_NETWORK] = (this.phase[p + PH_NETWORK] as number) + (d > u ? d - u : 0);
        this.phaseSeen[p + PH_NETWORK] = 1;
      }
    }
    const db = f.db;
    const ct = f.cacheTime;
    if (db === db || ct === ct) {
      let spent = 0;
      if (db === db) {
        this.phase[p + PH_DB] = (this.phase[p + PH_DB] as number) + db;
        this.phaseSeen[p + PH_DB] = 1;
        spent += db;
      }
      if (ct === ct) {
        this.phase[p + PH_CACHE] = (this.phase[p + PH_CACHE] as number) + ct;
        this.phaseSeen[p + PH_CACHE] = 1;
        spent += ct;
      }
      if (d === d) {
        this.phase[p + PH_APP] = (this.phase[p + PH_APP] as number) + (d > spent ? d - spent : 0);
        this.phaseSeen[p + PH_APP] = 1;
      }
    }
    if (f.cacheResult >= 0)
      this.cache[route * OUTCOME_COUNT + f.cacheResult] =
        (this.cache[route * OUTCOME_COUNT + f.cacheResult] as number) + 1;
    if (f.lockResult >= 0)
      this.lock[route * OUTCOME_COUNT + f.lockResult] = (this.lock[route * OUTCOME_COUNT + f.lockResult] as number) + 1;
    const w = f.lockWait;
    if (w === w) {
      this.lockWait[route] = (this.lockWait[route] as number) + w;
      this.lockWaitSeen[route] = 1;
    }
  }

  private addMr(mKey: number, route: number, method: number): number {
    const mr = this.mrCount++;
    if (mr >= this.mrRoute.length) {
      const n = this.mrRoute.length * 2;
      this.mrRoute = growI32(this.mrRoute, n);
      this.mrMethod = growU8(this.mrMethod, n);
      this.mrBuckets = growF64(this.mrBuckets, n * this.stride);
      this.mrSum = growF64(this.mrSum, n);
      this.mrObserved = growU8(this.mrObserved, n);
      this.mrBytes = growF64(this.mrBytes, n);
      this.mrBytesSeen = growU8(this.mrBytesSeen, n);
      this.mrLastStatus = growI32(this.mrLastStatus, n);
      this.mrLastSs = growI32(this.mrLastSs, n);
    }
    this.mrRoute[mr] = route;
    this.mrMethod[mr] = method;
    this.mrIndex[mKey] = mr + 1;
    return mr;
  }

  private addSs(key: number, mr: number, status: number): number {
    const ss = this.ssCount++;
    if (ss >= this.ssMr.length) {
      const n = this.ssMr.length * 2;
      this.ssMr = growI32(this.ssMr, n);
      this.ssStatus = growI32(this.ssStatus, n);
      this.ssValue = growF64(this.ssValue, n);
    }
    this.ssMr[ss] = mr;
    this.ssStatus[ss] = status;
    this.ssIndex.set(key, ss);
    return ss;
  }

  /** Total parse errors. */
  get errorTotal(): number {
    let n = 0;
    for (const v of this.errors) n += v;
    return n;
  }

  // ---------------------------------------------------------------- scrape time

  private routeName(id: number): string {
    return this.routes[id] ?? '__other__';
  }

  /** Every sample of family `name`, label values in the family's label order (`le` last for buckets). */
  visit(name: string, emit: SampleVisitor): void {
    const log = this.name;
    switch (name) {
      case HTTP_REQUESTS_TOTAL:
        for (let ss = 0; ss < this.ssCount; ss++) {
          const mr = this.ssMr[ss] as number;
          emit(
            this.ssValue[ss] as number,
            '',
            log,
            methodName(this.mrMethod[mr] as number),
            this.routeName(this.mrRoute[mr] as number),
            statusText(this.ssStatus[ss] as number),
          );
        }
        break;
      case HTTP_REQUEST_DURATION_SECONDS:
        for (let mr = 0; mr < this.mrCount; mr++) {
          if (this.mrObserved[mr] === 0) continue;
          const method = methodName(this.mrMethod[mr] as number);
          const route = this.routeName(this.mrRoute[mr] as number);
          let cum = 0;
          for (let k = 0; k <= this.nb; k++) {
            cum += this.mrBuckets[mr * this.stride + k] as number;
            emit(cum, '_bucket', log, method, route, this.le[k] as string);
          }
          emit(this.mrSum[mr] as number, '_sum', log, method, route);
          emit(cum, '_count', log, method, route);
        }
        break;
      case HTTP_RESPONSE_SIZE_BYTES_TOTAL:
        for (let mr = 0; mr < this.mrCount; mr++) {
          if (this.mrBytesSeen[mr] === 1)
            emit(
              this.mrBytes[mr] as number,
              '',
              log,
              methodName(this.mrMethod[mr] as number),
              this.routeName(this.mrRoute[mr] as number),
            );
        }
        break;
      case HTTP_REQUEST_PHASE_SECONDS_TOTAL:
        for (let route = 0; route < this.routes.length; route++) {
          for (let ph = 0; ph < PHASE_COUNT; ph++) {
            const i = route * PHASE_COUNT + ph;
            if (this.phaseSeen[i] === 1)
              emit(this.phase[i] as number, '', log, this.routeName(route), PHASES[ph] as string);
          }
        }
        break;
      case CACHE_LOOKUPS_TOTAL:
      case LOCK_ACQUISITIONS_TOTAL: {
        const isCache = name === CACHE_LOOKUPS_TOTAL;
        const values = isCache ? this.cache : this.lock;
        const results = isCache ? CACHE_RESULTS : LOCK_RESULTS;
        for (let route = 0; route < this.routes.length; route++) {
          for (let r = 0; r < OUTCOME_COUNT; r++) {
            const v = values[route * OUTCOME_COUNT + r] as number;
            if (v !== 0) emit(v, '', log, this.routeName(route), results[r] as string);
          }
        }
        break;
      }
      case LOCK_WAIT_SECONDS_TOTAL:
        for (let route = 0; route < this.routes.length; route++) {
          if (this.lockWaitSeen[route] === 1) emit(this.lockWait[route] as number, '', log, this.routeName(route));
        }
        break;
      case LOG_LINES_TOTAL:
        emit(this.lines, '', log);
        break;
      case LOG_PARSE_ERRORS_TOTAL:
        for (const reason of this.reasons)
          emit(this.errors[PARSE_ERROR_REASONS.indexOf(reason)] as number, '', log, reason);
        // a reason outside the parser's declared set still shows up once it happened
        PARSE_ERROR_REASONS.forEach((reason, code) => {
          if (!this.reasons.includes(reason) && (this.errors[code] as number) > 0)
            emit(this.errors[code] as number, '', log, reason);
        });
        break;
      case LOG_BYTES_READ_TOTAL:
        emit(this.tailer?.bytesRead ?? 0, '', log);
        break;
      case LOG_ROTATIONS_TOTAL:
        emit(this.tailer?.rotations ?? 0, '', log);
        break;
      case LOG_LAG_BYTES:
        emit(this.tailer?.lagBytes() ?? 0, '', log);
        break;
      case LOG_LAST_READ_TIMESTAMP_SECONDS: {
        const at = this.tailer?.lastReadAt ?? 0;
        if (at > 0) emit(at / 1000, '', log);
        break;
      }
      case LOG_ROUTES_OVERFLOW_TOTAL:
        emit(this.overflow, '', log);
        break;
      case LOG_ROUTES_TRUNCATED_TOTAL:
        emit(this.routeStats?.truncated ?? 0, '', log);
        break;
    }
  }
}

/**
 * Receives one sample: its value, the suffix of its metric name (`_bucket`, `_sum`, `_count`, or '') and its label
 * values in the family's label order, `le` last for buckets. Positional, so a visit allocates nothing per sample.
 */
export type SampleVisitor = (value: number, suffix: string, l0: string, l1?: string, l2?: string, l3?: string) => void;

/** Label name of position `i`: the family's, then `le` (histogram buckets). */
const labelName = (def: LogMetricDefinition, i: number): string => def.labelNames[i] ?? 'le';

/** prom-client's sample objects (for `get()`, i.e. getMetricsAsJSON and registry.metrics()). */
function sampleObjects(
  def: LogMetricDefinition,
  out: Sample[],
  extra: readonly (readonly [string, string])[] = [],
): SampleVisitor {
  return (value, suffix, ...labelValues) => {
    const labels: Record<string, string> = {};
    labelValues.forEach((v, i) => {
      if (v !== undefined) labels[labelName(def, i)] = v;
      if (i === 0) for (const [k, x] of extra) labels[k] = x;
    });
    out.push(suffix === '' ? { value, labels } : { value, labels, metricName: `${def.name}${suffix}` });
  };
}

const NEEDS_ESCAPE = /[\\\n"]/;
/** Label value escaping of the text formats (backslash, newline, double quote). */
export const escapeLabelValue = (v: string): string =>
  NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;

/** Lines joined per chunk: each line string then dies young instead of surviving (and being copied) until the end. */
const LINES_PER_CHUNK = 512;

/**
 * Sample lines, the same in Prometheus text and OpenMetrics (every counter here already ends in `_total`), handed to
 * `write` in chunks of up to LINES_PER_CHUNK lines, each line ending in a newline: one string per line straight
 * from the aggregates, no label objects. At the caps a route-cardinality attack reaches (~36,000 series),
 * prom-client's generic formatting held a dozen objects per sample until the end of the scrape; this holds a chunk.
 */
function textLines(
  def: LogMetricDefinition,
  write: (chunk: string) => void,
  formatValue: (v: number) => string,
): { emit: SampleVisitor; flush(): void; labels(text: string): void } {
  let extra = '';
  const open = [0, 1, 2, 3].map((i) => `${i === 0 ? '{' : '",'}${labelName(def, i)}="`);
  const pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    pending.push(''); // the last line's newline, without another copy of the chunk
    write(pending.join('\n'));
    pending.length = 0;
  };
  const emit: SampleVisitor = (value, suffix, l0, l1, l2, l3) => {
    let line = def.name + suffix + (open[0] as string) + escapeLabelValue(l0) + extra;
    if (l1 !== undefined) line += (open[1] as string) + escapeLabelValue(l1);
    if (l2 !== undefined) line += (open[2] as string) + escapeLabelValue(l2);
    if (l3 !== undefined) line += (open[3] as string) + escapeLabelValue(l3);
    pending.push(`${line}"} ${formatValue(value)}`);
    if (pending.length === LINES_PER_CHUNK) flush();
  };
  return {
    emit,
    flush,
    labels: (text) => {
      extra = text;
    },
  };
}

/** A registry entry that writes its own sample lines (see ScrapeTimeFamily); the server's renderers use it. */
export interface SampleLineWriter {
  /** Hands the sample lines to `write`, several per chunk, each line ending in a newline; `formatValue` spells the value. */
  writeSampleLines(write: (chunk: string) => void, formatValue: (v: number) => string): void;
}

export function isSampleLineWriter(metric: unknown): metric is SampleLineWriter {
  return metric instanceof ScrapeTimeFamily;
}

/**
 * One family as a prom-client custom metric: the registry calls `get()` when it renders (also for OpenMetrics,
 * where it renames counters by assigning `name`, so `name` is a plain writable property read on each call). The
 * server's renderers call `writeSampleLines()` instead, which skips the per-sample objects.
 */
class ScrapeTimeFamily implements SampleLineWriter {
  name: string;
  readonly help: string;
  readonly type: MetricKind;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';

  constructor(
    private readonly def: LogMetricDefinition,
    private readonly sources: readonly LogSourceSeries[],
  ) {
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.labelNames = def.labelNames;
  }

  async get(): Promise<{ name: string; help: string; type: MetricKind; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.sources) s.visit(this.def.name, sampleObjects(this.def, values, s.labels));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  writeSampleLines(write: (chunk: string) => void, formatValue: (v: number) => string): void {
    const lines = textLines(this.def, write, formatValue);
    for (const s of this.sources) {
      lines.labels(s.labelText);
      s.visit(this.def.name, lines.emit);
    }
    lines.flush();
  }

  /** The values mirror the pipelines' cumulative totals; there is nothing to reset here. */
  reset(): void {}
}

/** All access-log families of one registry. */
export class LogMetrics {
  private readonly sources: LogSourceSeries[] = [];

  constructor(registry: Registry) {
    for (const def of LOG_METRIC_DEFINITIONS) {
      // A custom metric object (public interface: name/help/type + get()); prom-client's types only list its own classes.
      registry.registerMetric(new ScrapeTimeFamily(def, this.sources) as unknown as Metric);
    }
  }

  /** Adds a log source; its series appear in the exposition from now on. */
  addSource(opts: LogSourceSeriesOptions): LogSourceSeries {
    const s = new LogSourceSeries(opts);
    if (this.sources.some((o) => o.name === s.name && o.labelText === s.labelText))
      throw new Error(`log source "${opts.name}" is already registered`);
    this.sources.push(s);
    return s;
  }

  /** Removes a log source's series (e.g. a test that rebuilds a pipeline on the same registry). */
  removeSource(source: LogSourceSeries): void {
    const i = this.sources.indexOf(source);
    if (i >= 0) this.sources.splice(i, 1);
  }
}

const perRegistry = new WeakMap<Registry, LogMetrics>();

/** The access-log families of `registry`, registering them on first use (every log source shares them). */
export function logMetricsFor(registry: Registry): LogMetrics {
  let m = perRegistry.get(registry);
  if (m === undefined) {
    m = new LogMetrics(registry);
    perRegistry.set(registry, m);
  }
  return m;
}
