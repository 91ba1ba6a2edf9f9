/*
 * How a PostgreSQL value becomes a snapshot value, for every view of the collector (pure, tested without a server).
 * pg hands bigint and numeric columns over as strings, and NULL as null.
 */

/**
 * A statistics column (a count, bytes, seconds): NULL means "none yet" in the statistics views (a table never
 * scanned by an index has idx_scan NULL), so it reads as 0, as does anything that is not a finite number.
 */
export function stat(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** A statistics column whose NULL means "not known" rather than 0 (the series is then left out). */
export function statOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : stat(value);
}

/**
 * An identifying column that becomes a label value (database, schema, table, index, lock mode, queryid). NULL gives
 * undefined, and the caller skips the row: an empty label value would say nothing true, and two such rows would
 * collide in one series.
 */
export function name(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}
