/**
 * One configured log source end to end: FileTailer -> line parser -> route resolver -> aggregator.
 *
 * Everything per line is synchronous inside the tailer's `line()` callback and allocation-free on the normal
 * path (see the parsers and log-metrics.ts); the tailer yields to the event loop at least every 64 KiB.
 */

import type { Registry } from 'prom-client';
import type { LogSourceConfig } from '../config/schema.js';
import { JsonLineParser } from '../parsers/json-line.js';
import { NginxLineParser } from '../parsers/nginx-format.js';
import { RegexLineParser } from '../parsers/regex-line.js';
import { ContainerLogDecoder } from '../parsers/container-log.js';
import {
  createRequestFields,
  EMPTY_LINE,
  INVALID_WRAPPER,
  LINE_TOO_LONG,
  type LineParser,
  type RequestFields,
} from '../parsers/request-fields.js';
import { ROUTE_OTHER, RouteResolver } from '../parsers/route-template.js';
import { FileTailer, type LineSink, type SavedPosition, type TailerState } from '../sources/tailer.js';
import { registerLogFileHealth } from './file-health.js';
import { logMetricsFor } from './log-metrics.js';
import type { LogSourceSeries } from './series.js';

/** What the landing page shows per source. */
export interface LogPipelineStatus {
  name: string;
  path: string;
  format: string;
  state: TailerState;
  lines: number;
  errors: number;
  lagBytes: number;
}

export interface LogPipelineOptions {
  /** Position saved by a previous run (positions file). */
  resume?: SavedPosition;
  /** One human-readable line per problem (tailer I/O errors). */
  log?: (line: string) => void;
  /** Use fs.watch as the fast trigger (default true; tests may turn it off). */
  watch?: boolean;
}

/** Builds the line parser a source's config asks for; throws (at start-up) when log_format/pattern is unusable. */
export function createLineParser(
  source: Pick<LogSourceConfig, 'format' | 'log_format' | 'pattern' | 'fields'>,
): LineParser {
  switch (source.format) {
    case 'json':
      return new JsonLineParser(source.fields ?? undefined);
    case 'nginx':
      return new NginxLineParser(source.log_format ?? 'combined');
    case 'regex':
      if (!source.pattern) throw new Error('format regex needs a pattern');
      return new RegexLineParser(source.pattern);
  }
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d;

/**
 * Parses lines into request metrics. Also usable without a file (`line()` / `oversized()` directly), which is how
 * the unit tests and the parser micro-benchmark feed it.
 */
export class LineProcessor implements LineSink {
  private readonly parser: LineParser;
  readonly routes: RouteResolver;
  readonly series: LogSourceSeries;
  private readonly fields: RequestFields = createRequestFields();

  /** `labels`: path labels of the files this processor counts (name, value pairs; see log-glob-pipeline.ts). */
  constructor(source: LogSourceConfig, registry: Registry, labels?: readonly (readonly [string, string])[]) {
    this.parser = createLineParser(source);
    this.routes = new RouteResolver({
      templates: source.routes,
      maxRoutes: source.max_routes,
      maxRouteLength: source.max_route_length,
    });
    this.series = logMetricsFor(registry).addSource({
      name: source.name,
      buckets: source.buckets,
      reasons: source.container_format ? [...this.parser.reasons, INVALID_WRAPPER.reason] : this.parser.reasons,
      labels,
      routes: this.routes.names,
      routeCapacity: source.max_routes + 2,
      has: this.parser.has,
      routeStats: this.routes,
    });
  }

  line(buf: Buffer, start: number, end: number): void {
    const series = this.series;
    series.lines++;
    const s = start;
    let e = end;
    while (e > s && isBlank(buf[e - 1] as number)) e--;
    if (e === s || (isBlank(buf[s] as number) && skipBlank(buf, s, e) === e)) {
      series.errors[EMPTY_LINE.code] = (series.errors[EMPTY_LINE.code] as number) + 1;
      return;
    }
    const f = this.fields;
    const r = this.parser.parse(buf, s, e, f);
    if (!r.ok) {
      series.errors[r.code] = (series.errors[r.code] as number) + 1;
      return;
    }
    const routes = this.routes;
    let route = f.routeStart >= 0 ? routes.resolveRoute(f.routeBuf, f.routeStart, f.routeEnd) : -1;
    if (route < 0) route = routes.resolvePath(f.pathBuf, f.pathStart, f.pathEnd);
    if (route === ROUTE_OTHER) series.overflow++;
    series.record(f, route);
  }

  oversized(): void {
    const series = this.series;
    series.lines++;
    series.errors[LINE_TOO_LONG.code] = (series.errors[LINE_TOO_LONG.code] as number) + 1;
  }

  /** A record not in the source's container_format. */
  malformed(): void {
    const series = this.series;
    series.lines++;
    series.errors[INVALID_WRAPPER.code] = (series.errors[INVALID_WRAPPER.code] as number) + 1;
  }
}

/**
 * The sink a tailer feeds: the processor itself for plain files (nothing between the tailer and the parser), or a
 * container-log decoder in front of it (one per file: it holds that file's split lines).
 */
export function tailerSink(source: LogSourceConfig, processor: LineProcessor): LineSink {
  return source.container_format
    ? new ContainerLogDecoder(source.container_format, source.max_line_bytes, processor, source.container_stream)
    : processor;
}

function skipBlank(buf: Buffer, s: number, e: number): number {
  while (s < e && isBlank(buf[s] as number)) s++;
  return s;
}

export class LogPipeline {
  readonly name: string;
  readonly path: string;
  readonly format: string;
  readonly processor: LineProcessor;
  private readonly tailer: FileTailer;

  constructor(source: LogSourceConfig, registry: Registry, opts: LogPipelineOptions = {}) {
    this.name = source.name;
    this.path = source.path;
    this.format = source.format;
    this.processor = new LineProcessor(source, registry);
    const log = opts.log;
    this.tailer = new FileTailer({
      path: source.path,
      startAt: source.start_at,
      maxLineBytes: source.max_line_bytes,
      pollIntervalMs: source.poll_interval,
      resume: opts.resume,
      sink: tailerSink(source, this.processor),
      onError: (err) => log?.(`log ${source.name} (${source.path}): ${err.message}`),
      watch: opts.watch,
    });
    this.processor.series.tailer = this.tailer;
    registerLogFileHealth(registry, this);
  }

  /** For crm_log_file_readable. */
  get fileReadable(): boolean {
    return this.tailer.readable;
  }

  /** For crm_log_file_errors_total. */
  get fileErrors(): number {
    return this.tailer.problemsReported;
  }

  /** Opens the file (or starts waiting for it) and begins reading; resolves once the first open attempt is done. */
  start(): Promise<void> {
    return this.tailer.start();
  }

  /** Reads what is already written, stops, releases the file. */
  close(): Promise<void> {
    return this.tailer.close();
  }

  /** Where to resume after a restart (for the positions file); the saved one, still pending, before a file was opened. */
  position(): SavedPosition | undefined {
    return this.tailer.position();
  }

  /** Lines counted so far in this run (crm_log_lines_total). */
  get linesCounted(): number {
    return this.processor.series.lines;
  }

  /** Resolves once everything written so far has been processed. */
  caughtUp(): Promise<void> {
    return this.tailer.caughtUp();
  }

  status(): LogPipelineStatus {
    const s = this.processor.series;
    return {
      name: this.name,
      path: this.path,
      format: this.format,
      state: this.tailer.state,
      lines: s.lines,
      errors: s.errorTotal,
      lagBytes: this.tailer.lagBytes(),
    };
  }
}

/** Builds the pipeline of one configured log source, registering its series in `registry`. Call `start()` next. */
export function createLogPipeline(
  source: LogSourceConfig,
  registry: Registry,
  opts: LogPipelineOptions = {},
): LogPipeline {
  return new LogPipeline(source, registry, opts);
}
