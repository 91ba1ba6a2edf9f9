/**
 * The families only a log source with a glob in its path (or path labels) has: how many files it follows, the files
 * it did not follow because of `max_files`, and the files whose path labels overflowed `max_path_label_values`.
 * Registered with the first such source, so an exporter of plain files exposes none of them. Rendered from
 * in-memory counters at scrape time (no I/O).
 */
import type { Registry } from 'prom-client';
import { defineFamily, registerFamily } from '../exposition/family.js';

const FILES = defineFamily({
  name: 'crm_log_files',
  help: 'Files the log source follows now (the files its path glob matches, up to max_files; a deleted file until it is read to its end).',
  type: 'gauge',
  labelNames: ['log'],
});
const FILES_SKIPPED = defineFamily({
  name: 'crm_log_files_skipped_total',
  help: 'Files the path glob matched but that were not followed because max_files files were followed already (each file counted once; logged).',
  type: 'counter',
  labelNames: ['log'],
});
const PATH_LABELS_OVERFLOW_FILES = defineFamily({
  name: 'crm_log_path_labels_overflow_files_total',
  help: 'Files whose path label values (path_labels) were replaced by __other__ because max_path_label_values distinct values were taken.',
  type: 'counter',
  labelNames: ['log'],
});

export const LOG_FILES = FILES.name;
export const LOG_FILES_SKIPPED_TOTAL = FILES_SKIPPED.name;
export const LOG_PATH_LABELS_OVERFLOW_FILES_TOTAL = PATH_LABELS_OVERFLOW_FILES.name;

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

const perRegistry = new WeakMap<Registry, LogGlobStats[]>();

/** Adds a glob source to the families of `registry` (registered with the first one). */
export function registerLogGlobStats(registry: Registry, source: LogGlobStats): void {
  let sources = perRegistry.get(registry);
  if (sources === undefined) {
    const all: LogGlobStats[] = (sources = []);
    perRegistry.set(registry, all);
    registerFamily(registry, FILES, (emit) => {
      for (const s of all) emit(s.files, [s.name]);
    });
    registerFamily(registry, FILES_SKIPPED, (emit) => {
      for (const s of all) emit(s.filesSkipped, [s.name]);
    });
    registerFamily(registry, PATH_LABELS_OVERFLOW_FILES, (emit) => {
      for (const s of all) emit(s.labelOverflowFiles, [s.name]);
    });
  }
  sources.push(source);
}
