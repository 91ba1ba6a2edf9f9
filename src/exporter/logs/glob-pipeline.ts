/**
 * A log source whose path is a glob (or that takes labels from its path): every matching file is tailed by its own
 * FileTailer (rotation-exact like a plain source) with its own positions entry `<name>:<path>`, and counted into the
 * series of its path labels (issue 13 item 3; docs/container-logs.md).
 *
 * - Discovery: the glob is listed at start() and then every poll_interval. A new file is followed from its beginning
 *   (it was created after the last look, so it holds only new lines); files present at start() follow start_at.
 *   At most max_files at once: further files are skipped (one log line each, crm_log_files_skipped_total) and taken
 *   up once others are released.
 * - Release: a file the glob no longer matches is released once its tailer has read the deleted file to its end and
 *   closed it (state `missing`, nothing left to read): the tailer is closed and its positions entry dropped. A file
 *   renamed away by a rotation is not released: the tailer drains it alongside its successor at the same path.
 * - Restart across a rotation that happened while the exporter was down: the tailer itself finds the predecessor in
 *   `<path>.1` (Docker's json-file, logrotate); kubelet names it `<path>.<timestamp>`, so the predecessor is looked
 *   for among `<path>.*` (not `.gz`) by its device and inode and read from the saved offset first.
 * - Path labels: the named groups of path_labels over the file's path, each capped at max_path_label_values
 *   distinct values (then `__other__`, crm_log_path_labels_overflow_files_total); files with the same values share
 *   one set of series.
 */
import type { Registry } from 'prom-client';
import {
  DEFAULT_MAX_FILES,
  DEFAULT_MAX_PATH_LABEL_VALUES,
  isGlob,
  pathLabelNames,
  type LogSourceConfig,
} from '../config/schema.js';
import { Glob } from '../sources/log-glob.js';
import { GlobFile } from '../sources/log-glob-file.js';
import { FileTailer, type SavedPosition } from '../sources/tailer.js';
import { registerLogFileHealth } from './file-health.js';
import { registerLogGlobStats } from './glob-metrics.js';
import { logMetricsFor } from './log-metrics.js';
import type { TailerStats } from './series.js';
import {
  createLogPipeline,
  LineProcessor,
  tailerSink,
  type LogPipeline,
  type LogPipelineOptions,
  type LogPipelineStatus,
} from './pipeline.js';

/** The value a path label takes once max_path_label_values distinct values are taken (as routes' `__other__`). */
export const PATH_LABEL_OTHER = '__other__';

/** The positions-file key of one file of a glob source (source names cannot hold ':'). */
export const globPositionKey = (source: string, path: string): string => `${source}:${path}`;

export interface GlobLogPipelineOptions {
  /** The whole positions file as loaded; this source takes its `<name>:<path>` entries. */
  saved?: Readonly<Record<string, SavedPosition>>;
  log?: (line: string) => void;
  watch?: boolean;
  /** A file was released: its positions entry is to be dropped (PositionsWriter.forget). */
  onRelease?: (key: string) => void;
  /** How long the series of path label values without files are kept (default RETAIN_EMPTY_SERIES_MS; tests). */
  retainMs?: number;
}

/**
 * The series of a set of path label values whose files were all released are removed this long after the last one
 * went (scrapes meanwhile report its last lines), and their values no longer count against max_path_label_values.
 */
export const RETAIN_EMPTY_SERIES_MS = 10 * 60 * 1000;

/** The files sharing one set of path label values: one line processor (one set of series), their tailers summed. */
class LabelGroup implements TailerStats {
  readonly tailers = new Set<FileTailer>();
  /** Files followed now with these values, and since when there are none (0: some). */
  files = 0;
  emptySince = 0;
  private retiredBytes = 0;
  private retiredRotations = 0;
  private retiredLastRead = 0;

  constructor(
    readonly processor: LineProcessor,
    readonly values: readonly string[],
  ) {
    processor.series.tailer = this;
  }

  retire(t: FileTailer): void {
    if (!this.tailers.delete(t)) return;
    this.retiredBytes += t.bytesRead;
    this.retiredRotations += t.rotations;
    this.retiredLastRead = Math.max(this.retiredLastRead, t.lastReadAt);
  }

  get bytesRead(): number {
    let n = this.retiredBytes;
    for (const t of this.tailers) n += t.bytesRead;
    return n;
  }
  get rotations(): number {
    let n = this.retiredRotations;
    for (const t of this.tailers) n += t.rotations;
    return n;
  }
  get lastReadAt(): number {
    let at = this.retiredLastRead;
    for (const t of this.tailers) at = Math.max(at, t.lastReadAt);
    return at;
  }
  lagBytes(): number {
    let n = 0;
    for (const t of this.tailers) n += t.lagBytes();
    return n;
  }
}

export class GlobLogPipeline {
  readonly name: string;
  readonly path: string;
  readonly format: string;
  private readonly source: LogSourceConfig;
  private readonly registry: Registry;
  private readonly opts: GlobLogPipelineOptions;
  private readonly glob: Glob;
  private readonly maxFiles: number;
  private readonly maxLabelValues: number;
  private readonly retainMs: number;
  private readonly labelRe: RegExp | undefined;
  private readonly labelNames: readonly string[];
  /** Distinct values taken per path label (index as labelNames). */
  /** Distinct values per path label held by a set of series, with how many sets hold each (index as labelNames). */
  private readonly labelValues: Map<string, number>[];
  private readonly groups = new Map<string, LabelGroup>();
  private readonly followed = new Map<string, GlobFile>();
  private readonly groupOf = new Map<GlobFile, LabelGroup>();
  private readonly skipped = new Set<string>();
  /** Paths matched by the first listing: they follow start_at whenever they are taken up. */
  private readonly initial = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private discovering: Promise<void> | undefined;
  private stopped = false;
  private listingErrors = 0;
  /** Problems reported by the tailers of released files (the counter must not go down when they go). */
  private retiredErrors = 0;
  private lastListingError: string | undefined;
  filesSkipped = 0;
  labelOverflowFiles = 0;

  constructor(source: LogSourceConfig, registry: Registry, opts: GlobLogPipelineOptions = {}) {
    this.name = source.name;
    this.path = source.path;
    this.format = source.container_format ? `${source.format} in ${source.container_format}` : source.format;
    this.source = source;
    this.registry = registry;
    this.opts = opts;
    this.glob = new Glob(source.path);
    this.maxFiles = source.max_files ?? DEFAULT_MAX_FILES;
    this.maxLabelValues = source.max_path_label_values ?? DEFAULT_MAX_PATH_LABEL_VALUES;
    this.labelRe = source.path_labels === undefined ? undefined : new RegExp(source.path_labels);
    this.labelNames = this.labelRe ? pathLabelNames(this.labelRe) : [];
    this.labelValues = this.labelNames.map(() => new Map<string, number>());
    this.retainMs = opts.retainMs ?? RETAIN_EMPTY_SERIES_MS;
    if (this.labelNames.length === 0) this.groupFor(''); // the source's series exist before its first file, as a plain source's
    registerLogFileHealth(registry, this);
    registerLogGlobStats(registry, this);
  }

  /** For crm_log_files: files followed now. */
  get files(): number {
    return this.followed.size;
  }

  /** For crm_log_file_readable: at least one file matches and every followed file is being read. */
  get fileReadable(): boolean {
    if (this.followed.size === 0 || this.lastListingError !== undefined) return false;
    for (const f of this.followed.values()) if (f.tailer && !f.tailer.readable) return false;
    return true;
  }

  /** For crm_log_file_errors_total. */
  get fileErrors(): number {
    let n = this.listingErrors + this.retiredErrors;
    for (const f of this.followed.values()) n += f.tailer?.problemsReported ?? 0;
    return n;
  }

  async start(): Promise<void> {
    await this.discover(true);
    this.timer = setInterval(() => {
      this.discovering ??= this.discover(false)
        .catch((err: unknown) => this.opts.log?.(`log ${this.name} (${this.path}): ${String(err)}`))
        .finally(() => (this.discovering = undefined));
    }, this.source.poll_interval);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.discovering;
    await Promise.all([...this.followed.values()].map((f) => f.close()));
  }

  async caughtUp(): Promise<void> {
    await this.discovering;
    await Promise.all([...this.followed.values()].map((f) => f.caughtUp()));
  }

  /** Lists the glob now, takes up new files and releases gone ones (tests call it to skip the poll interval). */
  async rescan(): Promise<void> {
    await this.discovering;
    this.discovering = this.discover(false).finally(() => (this.discovering = undefined));
    await this.discovering;
  }

  /**
   * Adds this source's entries to `out`: every file's position, or with `baseline` only those of files that had no
   * saved position and have read nothing yet (what may be saved without a scrape, see PositionsWriter).
   */
  collectPositions(out: Record<string, SavedPosition>, baseline = false): void {
    for (const f of this.followed.values()) {
      if (baseline && (f.hadSaved || f.bytesRead > 0)) continue;
      const pos = f.position();
      if (pos) out[f.key] = pos;
    }
  }

  /** Lines counted so far in this run, every file. */
  get linesCounted(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.processor.series.lines;
    return n;
  }

  status(): LogPipelineStatus {
    let lines = 0;
    let errors = 0;
    let lag = 0;
    for (const g of this.groups.values()) {
      lines += g.processor.series.lines;
      errors += g.processor.series.errorTotal;
      lag += g.lagBytes();
    }
    return {
      name: this.name,
      path: this.path,
      format: this.format,
      state: this.stopped ? 'closed' : this.followed.size > 0 ? 'open' : 'missing',
      lines,
      errors,
      lagBytes: lag,
    };
  }

  private async discover(first: boolean): Promise<void> {
    if (this.stopped) return;
    let listingError: string | undefined;
    const matched = await this.glob.match((err) => (listingError ??= err.message));
    if (listingError !== undefined && listingError !== this.lastListingError) {
      this.listingErrors++;
      this.opts.log?.(`log ${this.name} (${this.path}): ${listingError}`);
    }
    this.lastListingError = listingError;
    if (first) for (const p of matched) this.initial.add(p);
    const now = new Set(matched);
    for (const f of [...this.followed.values()]) if (!now.has(f.path)) await this.maybeRelease(f);
    const starts: Promise<void>[] = [];
    for (const p of matched) {
      if (this.stopped || this.followed.has(p)) continue;
      if (this.followed.size >= this.maxFiles) {
        if (!this.skipped.has(p)) {
          this.skipped.add(p);
          this.filesSkipped++;
          this.opts.log?.(
            `log ${this.name}: not following ${p}: ${this.maxFiles} files (max_files) are followed already; taken up once one is released`,
          );
        }
        continue;
      }
      this.skipped.delete(p);
      starts.push(this.add(p, this.initial.has(p) ? this.source.start_at : 'beginning'));
    }
    for (const p of this.skipped) if (!now.has(p)) this.skipped.delete(p);
    await Promise.all(starts);
    this.dropEmptyGroups();
  }

  private async add(path: string, startAt: 'end' | 'beginning'): Promise<void> {
    const key = globPositionKey(this.name, path);
    const saved = this.opts.saved?.[key];
    const group = this.groupForPath(path);
    const sink = tailerSink(this.source, group.processor);
    const make = (p: string, at: 'end' | 'beginning', resume?: SavedPosition): FileTailer => {
      const t = new FileTailer({
        path: p,
        startAt: at,
        maxLineBytes: this.source.max_line_bytes,
        pollIntervalMs: this.source.poll_interval,
        resume,
        sink,
        onError: (err) => this.opts.log?.(`log ${this.name} (${p}): ${err.message}`),
        watch: this.opts.watch,
      });
      group.tailers.add(t);
      return t;
    };
    const f = new GlobFile(
      path,
      key,
      saved !== undefined,
      make,
      (t) => group.retire(t),
      (err) => this.opts.log?.(`log ${this.name} (${path}): ${err.message}`),
    );
    group.files++;
    group.emptySince = 0;
    this.followed.set(path, f);
    this.groupOf.set(f, group);
    await f.start(startAt, saved);
  }

  /** Releases `f` once its file is gone and read to its end; until then it is kept (a rotation in progress). */
  private async maybeRelease(f: GlobFile): Promise<void> {
    const t = f.tailer;
    if (!t || t.state !== 'missing' || t.lagBytes() > 0) return;
    this.followed.delete(f.path);
    await f.close();
    const group = this.groupOf.get(f);
    group?.retire(t);
    if (group && --group.files === 0) group.emptySince = Date.now();
    this.retiredErrors += t.problemsReported;
    this.groupOf.delete(f);
    this.opts.onRelease?.(f.key);
  }

  private groupForPath(path: string): LabelGroup {
    if (!this.labelRe) return this.groupFor('');
    const groups = this.labelRe.exec(path)?.groups;
    let overflowed = false;
    const values = this.labelNames.map((name, i) => {
      const v = groups?.[name] ?? '';
      const taken = this.labelValues[i] as Map<string, number>;
      if (taken.has(v) || taken.size < this.maxLabelValues) return v;
      overflowed = true;
      return PATH_LABEL_OTHER;
    });
    if (overflowed) this.labelOverflowFiles++;
    return this.groupFor(JSON.stringify(values), values);
  }

  private groupFor(key: string, values: readonly string[] = []): LabelGroup {
    let g = this.groups.get(key);
    if (!g) {
      const labels = this.labelNames.map((n, i) => [n, values[i] ?? ''] as const);
      g = new LabelGroup(new LineProcessor(this.source, this.registry, labels.length > 0 ? labels : undefined), values);
      this.groups.set(key, g);
      values.forEach((v, i) => {
        const taken = this.labelValues[i] as Map<string, number>;
        if (v !== PATH_LABEL_OTHER) taken.set(v, (taken.get(v) ?? 0) + 1);
      });
    }
    return g;
  }

  /** Removes the series of label values whose files all went more than retainMs ago, and frees their values. */
  private dropEmptyGroups(): void {
    if (this.labelNames.length === 0) return; // the one set of series of a source without path labels stays
    const now = Date.now();
    for (const [key, g] of this.groups) {
      if (g.files > 0 || g.emptySince === 0 || now - g.emptySince < this.retainMs) continue;
      logMetricsFor(this.registry).removeSource(g.processor.series);
      this.groups.delete(key);
      g.values.forEach((v, i) => {
        const taken = this.labelValues[i] as Map<string, number>;
        const n = (taken.get(v) ?? 0) - 1;
        if (n > 0) taken.set(v, n);
        else taken.delete(v);
      });
    }
  }
}

/** Whether a source is followed by a GlobLogPipeline: a glob in its path, or labels taken from its path. */
export const followsGlob = (source: LogSourceConfig): boolean =>
  isGlob(source.path) || source.path_labels !== undefined;

/**
 * The pipeline of one configured log source: a plain file (LogPipeline, positions entry `<name>`), or a glob
 * (GlobLogPipeline, one entry `<name>:<path>` per file). Registers its series in `registry`; call `start()` next.
 */
export function createLogSource(
  source: LogSourceConfig,
  registry: Registry,
  opts: Omit<LogPipelineOptions, 'resume'> & GlobLogPipelineOptions = {},
): LogPipeline | GlobLogPipeline {
  if (followsGlob(source)) return new GlobLogPipeline(source, registry, opts);
  return createLogPipeline(source, registry, { resume: opts.saved?.[source.name], log: opts.log, watch: opts.watch });
}
