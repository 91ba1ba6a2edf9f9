/**
 * The series store of one log source: lines are aggregated per series in typed arrays (a few array writes per line,
 * no label objects, no Map on the hot path), and `visit` hands every sample of a family to a renderer at scrape time.
 * Calling prom-client's `inc`/`observe` per line would cost several times more than parsing the line.
 */

import { extraLabels, type Emit, type ExtraLabels } from '../exposition/family.js';
import { IntMap } from '../parsers/bytes.js';
import { METHOD_COUNT, methodName } from '../parsers/http-method.js';
import { CACHE_RESULTS, LOCK_RESULTS, OUTCOME_COUNT } from '../parsers/outcomes.js';
import {
  type FieldPresence,
  type ParseErrorReason,
  PARSE_ERROR_REASONS,
  type RequestFields,
} from '../parsers/request-fields.js';
import {
  CACHE_LOOKUPS_TOTAL,
  HTTP_REQUEST_DURATION_SECONDS,
  HTTP_REQUEST_PHASE_SECONDS_TOTAL,
  HTTP_REQUESTS_TOTAL,
  HTTP_RESPONSE_SIZE_BYTES_TOTAL,
  LOCK_ACQUISITIONS_TOTAL,
  LOCK_WAIT_SECONDS_TOTAL,
  LOG_BYTES_READ_TOTAL,
  LOG_LAG_BYTES,
  LOG_LAST_READ_TIMESTAMP_SECONDS,
  LOG_LINES_TOTAL,
  LOG_METRIC_DEFINITIONS,
  LOG_PARSE_ERRORS_TOTAL,
  LOG_ROTATIONS_TOTAL,
  LOG_ROUTES_OVERFLOW_TOTAL,
  LOG_ROUTES_TRUNCATED_TOTAL,
  PHASE_COUNT,
  PHASES,
} from './families.js';

const PH_UPSTREAM = 0;
const PH_NETWORK = 1;
const PH_DB = 2;
const PH_CACHE = 3;
const PH_APP = 4;
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

/** A copy of `a` with room for `size` elements (growth only, never on a line's path). */
function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
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
  /** Path labels, checked once for every log family (written after `log`); undefined without. */
  readonly extra: ExtraLabels | undefined;
  /** Lines read (good or bad). */
  lines = 0;
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
    this.extra = opts.labels?.length ? extraLabels(LOG_METRIC_DEFINITIONS, opts.labels) : undefined;
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
      this.mrRoute = grown(this.mrRoute, n);
      this.mrMethod = grown(this.mrMethod, n);
      this.mrBuckets = grown(this.mrBuckets, n * this.stride);
      this.mrSum = grown(this.mrSum, n);
      this.mrObserved = grown(this.mrObserved, n);
      this.mrBytes = grown(this.mrBytes, n);
      this.mrBytesSeen = grown(this.mrBytesSeen, n);
      this.mrLastStatus = grown(this.mrLastStatus, n);
      this.mrLastSs = grown(this.mrLastSs, n);
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
      this.ssMr = grown(this.ssMr, n);
      this.ssStatus = grown(this.ssStatus, n);
      this.ssValue = grown(this.ssValue, n);
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

  /** Every sample of family `name`, labels in the family's order (`le` last), one reused array per label count. */
  visit(name: string, emit: Emit): void {
    const log = this.name;
    const extra = this.extra;
    const l1 = [log];
    const l2 = [log, ''];
    const l3 = [log, '', ''];
    const l4 = [log, '', '', ''];
    switch (name) {
      case HTTP_REQUESTS_TOTAL:
        for (let ss = 0; ss < this.ssCount; ss++) {
          const mr = this.ssMr[ss] as number;
          l4[1] = methodName(this.mrMethod[mr] as number);
          l4[2] = this.routeName(this.mrRoute[mr] as number);
          l4[3] = statusText(this.ssStatus[ss] as number);
          emit(this.ssValue[ss] as number, l4, '', extra);
        }
        break;
      case HTTP_REQUEST_DURATION_SECONDS:
        // the source's own buckets (config `buckets`), `le` last
        for (let mr = 0; mr < this.mrCount; mr++) {
          if (this.mrObserved[mr] === 0) continue;
          l3[1] = l4[1] = methodName(this.mrMethod[mr] as number);
          l3[2] = l4[2] = this.routeName(this.mrRoute[mr] as number);
          let cum = 0;
          for (let k = 0; k <= this.nb; k++) {
            cum += this.mrBuckets[mr * this.stride + k] as number;
            l4[3] = this.le[k] as string;
            emit(cum, l4, '_bucket', extra);
          }
          emit(this.mrSum[mr] as number, l3, '_sum', extra);
          emit(cum, l3, '_count', extra);
        }
        break;
      case HTTP_RESPONSE_SIZE_BYTES_TOTAL:
        for (let mr = 0; mr < this.mrCount; mr++) {
          if (this.mrBytesSeen[mr] === 0) continue;
          l3[1] = methodName(this.mrMethod[mr] as number);
          l3[2] = this.routeName(this.mrRoute[mr] as number);
          emit(this.mrBytes[mr] as number, l3, '', extra);
        }
        break;
      case HTTP_REQUEST_PHASE_SECONDS_TOTAL:
        for (let route = 0; route < this.routes.length; route++) {
          for (let ph = 0; ph < PHASE_COUNT; ph++) {
            const i = route * PHASE_COUNT + ph;
            if (this.phaseSeen[i] === 0) continue;
            l3[1] = this.routeName(route);
            l3[2] = PHASES[ph] as string;
            emit(this.phase[i] as number, l3, '', extra);
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
            if (v === 0) continue;
            l3[1] = this.routeName(route);
            l3[2] = results[r] as string;
            emit(v, l3, '', extra);
          }
        }
        break;
      }
      case LOCK_WAIT_SECONDS_TOTAL:
        for (let route = 0; route < this.routes.length; route++) {
          if (this.lockWaitSeen[route] === 0) continue;
          l2[1] = this.routeName(route);
          emit(this.lockWait[route] as number, l2, '', extra);
        }
        break;
      case LOG_LINES_TOTAL:
        emit(this.lines, l1, '', extra);
        break;
      case LOG_PARSE_ERRORS_TOTAL:
        for (const reason of this.reasons) {
          l2[1] = reason;
          emit(this.errors[PARSE_ERROR_REASONS.indexOf(reason)] as number, l2, '', extra);
        }
        // a reason outside the parser's declared set still shows up once it happened
        PARSE_ERROR_REASONS.forEach((reason, code) => {
          if (this.reasons.includes(reason) || (this.errors[code] as number) === 0) return;
          l2[1] = reason;
          emit(this.errors[code] as number, l2, '', extra);
        });
        break;
      case LOG_BYTES_READ_TOTAL:
        emit(this.tailer?.bytesRead ?? 0, l1, '', extra);
        break;
      case LOG_ROTATIONS_TOTAL:
        emit(this.tailer?.rotations ?? 0, l1, '', extra);
        break;
      case LOG_LAG_BYTES:
        emit(this.tailer?.lagBytes() ?? 0, l1, '', extra);
        break;
      case LOG_LAST_READ_TIMESTAMP_SECONDS: {
        const at = this.tailer?.lastReadAt ?? 0;
        if (at > 0) emit(at / 1000, l1, '', extra);
        break;
      }
      case LOG_ROUTES_OVERFLOW_TOTAL:
        emit(this.overflow, l1, '', extra);
        break;
      case LOG_ROUTES_TRUNCATED_TOTAL:
        emit(this.routeStats?.truncated ?? 0, l1, '', extra);
        break;
    }
  }
}
