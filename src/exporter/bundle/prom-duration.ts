/*
 * Prometheus durations ("30s", "5m", "1h30m", "1d", "1w") as the rule files write them. Thresholds accept the
 * same syntax, so a window in thresholds.yaml reads exactly as it will appear in PromQL and in a rule name.
 */
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 7 * 24 * 3_600_000],
  ['d', 24 * 3_600_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const UNIT_MS = new Map(UNITS);
const PART = /(\d+)(ms|s|m|h|d|w)/y;

/** "1h30m" -> 5_400_000; undefined when not a positive Prometheus duration (years are not accepted). */
export function parsePromDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) return undefined;
    ms += Number(match[1]) * (UNIT_MS.get(match[2] as string) as number);
  }
  return ms > 0 ? ms : undefined;
}

/** 5_400_000 -> "1h30m"; the canonical form Prometheus itself prints (weeks only for whole weeks). */
export function formatPromDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`not a positive whole number of milliseconds: ${ms}`);
  const week = UNIT_MS.get('w') as number;
  let rest = ms;
  let out = '';
  for (const [unit, size] of UNITS) {
    if (unit === 'w' && rest % week !== 0) continue;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** "10m" -> 600: a duration as seconds, for comparisons with time() and with gauges in seconds. */
export function durationSeconds(text: string): number {
  const ms = parsePromDuration(text);
  if (ms === undefined) throw new RangeError(`not a Prometheus duration: ${text}`);
  return ms / 1000;
}
