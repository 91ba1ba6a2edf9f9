/**
 * Whether each log source can read its file: the problems the tailer reports (docs/failure-modes.md). Rendered from
 * the tailers' in-memory state at scrape time (no I/O).
 */
import type { Registry } from 'prom-client';
import { defineFamily, registerFamily } from '../exposition/family.js';

const FILE_READABLE = defineFamily({
  name: 'crm_log_file_readable',
  help: 'Whether the log file at the configured path is being read (1), or is missing, not a regular file, or unreadable (0).',
  type: 'gauge',
  labelNames: ['log'],
});
const FILE_ERRORS = defineFamily({
  name: 'crm_log_file_errors_total',
  help: 'I/O problems with the log file or its directory (permission denied, not a regular file, I/O error), each counted once like the log line reporting it.',
  type: 'counter',
  labelNames: ['log'],
});

export const LOG_FILE_READABLE = FILE_READABLE.name;
export const LOG_FILE_ERRORS_TOTAL = FILE_ERRORS.name;

/** What a log source tells about its file. */
export interface LogFileHealth {
  readonly name: string;
  /** The file at the path is open and the last pass met no I/O problem. */
  readonly fileReadable: boolean;
  /** Problems reported so far, each once (one log line each). */
  readonly fileErrors: number;
}

const perRegistry = new WeakMap<Registry, LogFileHealth[]>();

/** Adds a log source to the two families of `registry` (registered with the first source). */
export function registerLogFileHealth(registry: Registry, source: LogFileHealth): void {
  let sources = perRegistry.get(registry);
  if (sources === undefined) {
    const all: LogFileHealth[] = (sources = []);
    perRegistry.set(registry, all);
    registerFamily(registry, FILE_READABLE, (emit) => {
      for (const s of all) emit(s.fileReadable ? 1 : 0, [s.name]);
    });
    registerFamily(registry, FILE_ERRORS, (emit) => {
      for (const s of all) emit(s.fileErrors, [s.name]);
    });
  }
  // A pipeline rebuilt under the same name (a test, a reload) replaces the old one: one series per log.
  const i = sources.findIndex((s) => s.name === source.name);
  if (i >= 0) sources[i] = source;
  else sources.push(source);
}
