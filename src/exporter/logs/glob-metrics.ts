/**
 * The families only a log source with a glob in its path (or path labels) has: how many files it follows, the files
 * it did not follow because of `max_files`, and the files whose path labels overflowed `max_path_label_values`.
 * Registered with the first such source, so an exporter of plain files exposes none of them. Read from in-memory
 * counters at scrape time (no I/O in the collect hooks).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export const LOG_FILES = 'crm_log_files';
export const LOG_FILES_SKIPPED_TOTAL = 'crm_log_files_skipped_total';
export const LOG_PATH_LABELS_OVERFLOW_FILES_TOTAL = 'crm_log_path_labels_overflow_files_total';

/** What a glob source tells about its files. */
export interface LogGlobStats {
  readonly name: string;
  /** Files followed now. */
  readonly files: number;
  /** Distinct files not followed because max_files were followed already. */
  readonly filesSkipped: number;
  /** Files whose path label values were replaced by `__other__`. */
  readonly labelOverflowFiles: number;
}

class LogGlobFamilies {
  readonly sources: LogGlobStats[] = [];

  constructor(registry: Registry) {
    const sources = this.sources;
    new Gauge({
      name: LOG_FILES,
      help: 'Files the log source follows now (the files its path glob matches, up to max_files; a deleted file until it is read to its end).',
      labelNames: ['log'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources) this.set({ log: s.name }, s.files);
      },
    });
    new Counter({
      name: LOG_FILES_SKIPPED_TOTAL,
      help: 'Files the path glob matched but that were not followed because max_files files were followed already (each file counted once; logged).',
      labelNames: ['log'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources) this.inc({ log: s.name }, s.filesSkipped);
      },
    });
    new Counter({
      name: LOG_PATH_LABELS_OVERFLOW_FILES_TOTAL,
      help: 'Files whose path label values (path_labels) were replaced by __other__ because max_path_label_values distinct values were taken.',
      labelNames: ['log'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources) this.inc({ log: s.name }, s.labelOverflowFiles);
      },
    });
  }
}

const perRegistry = new WeakMap<Registry, LogGlobFamilies>();

/** Adds a glob source to the families of `registry` (created with the first one). */
export function registerLogGlobStats(registry: Registry, source: LogGlobStats): void {
  let families = perRegistry.get(registry);
  if (families === undefined) {
    families = new LogGlobFamilies(registry);
    perRegistry.set(registry, families);
  }
  families.sources.push(source);
}
