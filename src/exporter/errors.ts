/** The few typed errors of the exporter. Each has a stable `code` so callers and tests match on it, not on text. */
export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  /** Every problem found, each starting with its key path (`logs[0].format: ...`). */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class CollectorTimeoutError extends Error {
  readonly code = 'E_COLLECTOR_TIMEOUT';
  constructor(collector: string, ms: number) {
    super(`collector ${collector} did not finish within ${ms} ms`);
    this.name = 'CollectorTimeoutError';
  }
}

/** A PostgreSQL connection could not be opened (refused, authentication, timeout); the message names the database. */
export class PgConnectError extends Error {
  readonly code = 'E_PG_CONNECT';
  constructor(database: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot connect to database "${database}": ${reason}`, options);
    this.name = 'PgConnectError';
  }
}

/** The HTTP server could not listen (port in use, no permission): the exporter stops before reading any log. */
export class ListenError extends Error {
  readonly code = 'E_LISTEN';
  constructor(listen: string, cause: unknown) {
    const reason =
      typeof cause === 'object' && cause !== null && 'code' in cause
        ? String((cause as { code: unknown }).code)
        : String(cause);
    super(`listen: cannot listen on ${listen} (${reason})`, { cause });
    this.name = 'ListenError';
  }
}

/** Kept here for the modules that import it from errors.js; the one implementation is in config/mask.ts. */
export { redactSecrets } from './config/mask.js';
