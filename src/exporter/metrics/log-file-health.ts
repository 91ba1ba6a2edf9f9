/**
 * Whether each log source can read its file: the problems the tailer reports (docs/failure-modes.md). Read from the
 * tailers' in-memory state at scrape time, so the collect hooks do no I/O.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export const LOG_FILE_READABLE = 'crm_log_file_readable';
export const LOG_FILE_ERRORS_TOTAL = 'crm_log_file_errors_total';

/** What a log source tells about its file. */
export interface LogFileHealth {
  readonly name: string;
  /** The file at the path is open and the last pass met no I/O problem. */
  readonly fileReadable: boolean;
  /** Problems reported so far, each once (one log line each). */
  readonly fileErrors: number;
}

class LogFileHealthFamilies {
  readonly sources: LogFileHealth[] = [];

  constructor(registry: Registry) {
    const sources = this.sources;
    new Gauge({
      name: LOG_FILE_READABLE,
      help: 'Whether the log file at the configured path is being read (1), or is missing, not a regular file, or unreadable (0).',
      labelNames: ['log'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources) this.set({ log: s.name }, s.fileReadable ? 1 : 0);
      },
    });
    new Counter({
      name: LOG_FILE_ERRORS_TOTAL,
      help: 'I/O problems with the log file or its directory (permission denied, not a regular file, I/O error), each counted once like the log line reporting it.',
      labelNames: ['log'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources) this.inc({ log: s.name }, s.fileErrors);
      },
    });
  }
}

const perRegistry = new WeakMap<Registry, LogFileHealthFamilies>();

/** Adds a log source to the two families of `registry` (created with the first source). */
export function registerLogFileHealth(registry: Registry, source: LogFileHealth): void {
  let families = perRegistry.get(registry);
  if (families === undefined) {
    families = new LogFileHealthFamilies(registry);
    perRegistry.set(registry, families);
  }
  families.sources.push(source);
}
