/**
 * Pure parser of the text Redis answers to `INFO` (any section set, Redis 2.8 to 7.x): no I/O, no exceptions.
 *
 * The format is `# Section` headers followed by `field:value` lines, separated by CRLF (LF is accepted too).
 * A few sections pack several values in one line, and those are returned typed:
 * - Keyspace:      `db0:keys=382,expires=340,avg_ttl=3575954` (avg_ttl in milliseconds; Redis 7.4 adds subexpiry=…)
 * - Commandstats:  `cmdstat_get:calls=5,usec=9,usec_per_call=1.80,rejected_calls=0,failed_calls=0`
 *                  (rejected_calls and failed_calls since Redis 6.2; sub-commands such as `config|get` since 7.0)
 * - Latencystats:  `latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=7.007` (Redis 7.0+; the percentiles
 *                  listed follow the server's `latency-tracking-info-percentiles`)
 * Lines that fit none of these shapes are counted in `ignoredLines`, never thrown on.
 */

export interface KeyspaceStat {
  /** The database index as Redis prints it ("0" for db0). */
  readonly db: string;
  readonly keys: number;
  /** Keys with a time to live. */
  readonly expires: number;
  /** Average TTL of the expiring keys, in milliseconds (absent on very old servers). */
  readonly avgTtlMs: number | undefined;
}

export interface CommandStat {
  /** Lower-case command name; `container|subcommand` on Redis 7 (`config|get`). */
  readonly cmd: string;
  /** Calls that reached execution. */
  readonly calls: number;
  /** Total CPU time spent executing the command, in microseconds. */
  readonly usec: number;
  /** Calls rejected before execution (arity, ACL, OOM...); Redis 6.2+. */
  readonly rejectedCalls: number | undefined;
  /** Calls that returned an error from within execution; Redis 6.2+. */
  readonly failedCalls: number | undefined;
}

export interface LatencyPercentile {
  /** The percentile as Redis names it, without its `p`: "50", "99", "99.9". */
  readonly percentile: string;
  /** The same as a 0..1 quantile string: "0.5", "0.99", "0.999". */
  readonly quantile: string;
  readonly usec: number;
}

export interface CommandLatency {
  readonly cmd: string;
  readonly percentiles: readonly LatencyPercentile[];
}

export interface RedisInfo {
  /** Fields by lower-case section name (`server`, `memory`, ...); lines before any header go under "". */
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Every `field:value` line of every section (INFO field names are unique across sections). */
  readonly fields: ReadonlyMap<string, string>;
  readonly keyspace: readonly KeyspaceStat[];
  readonly commands: readonly CommandStat[];
  readonly latency: readonly CommandLatency[];
  /** Lines that were neither blank, a header, nor a well-formed field. */
  readonly ignoredLines: number;
}

export type RedisInfoResult = { ok: true; info: RedisInfo } | { ok: false; reason: string };

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** A decimal number as Redis prints it, or undefined (never `Number("")` = 0 or hex, never `1e400` = Infinity). */
export function parseInfoNumber(value: string | undefined): number | undefined {
  if (value === undefined || !NUMBER.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** A count or a time: a finite number ≥ 0, or undefined. The metrics mirror them as counters, which cannot go down. */
function parseInfoCount(value: string | undefined): number | undefined {
  const n = parseInfoNumber(value);
  return n !== undefined && n >= 0 ? n : undefined;
}

/** `a=1,b=2` as a map; undefined when any part is not `name=value`. */
function parseList(value: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out.size > 0 ? out : undefined;
}

/** "99.9" -> "0.999" without binary floating-point noise (99.9 / 100 is 0.9990000000000001). */
function percentileToQuantile(percentile: number): string {
  return String(Number((percentile / 100).toPrecision(12)));
}

const DB_KEY = /^db(\d+)$/;
const CMDSTAT = 'cmdstat_';
const LATENCY = 'latency_percentiles_usec_';

function parseKeyspace(db: string, value: string): KeyspaceStat | undefined {
  const list = parseList(value);
  const keys = parseInfoCount(list?.get('keys'));
  const expires = parseInfoCount(list?.get('expires'));
  if (keys === undefined || expires === undefined) return undefined;
  return { db, keys, expires, avgTtlMs: parseInfoNumber(list?.get('avg_ttl')) };
}

function parseCommandStat(cmd: string, value: string): CommandStat | undefined {
  const list = parseList(value);
  const calls = parseInfoCount(list?.get('calls'));
  const usec = parseInfoCount(list?.get('usec'));
  if (cmd === '' || calls === undefined || usec === undefined) return undefined;
  return {
    cmd,
    calls,
    usec,
    rejectedCalls: parseInfoCount(list?.get('rejected_calls')),
    failedCalls: parseInfoCount(list?.get('failed_calls')),
  };
}

function parseLatency(cmd: string, value: string): CommandLatency | undefined {
  const list = parseList(value);
  if (cmd === '' || list === undefined) return undefined;
  const percentiles: LatencyPercentile[] = [];
  for (const [name, raw] of list) {
    if (name[0] !== 'p') return undefined;
    const percentile = parseInfoNumber(name.slice(1));
    const usec = parseInfoCount(raw);
    if (percentile === undefined || percentile < 0 || percentile > 100 || usec === undefined) return undefined;
    percentiles.push({ percentile: name.slice(1), quantile: percentileToQuantile(percentile), usec });
  }
  return { cmd, percentiles };
}

export function parseRedisInfo(text: string): RedisInfoResult {
  const sections = new Map<string, Map<string, string>>();
  const fields = new Map<string, string>();
  const keyspace: KeyspaceStat[] = [];
  const commands: CommandStat[] = [];
  const latency: CommandLatency[] = [];
  let ignoredLines = 0;
  let section = new Map<string, string>();
  sections.set('', section);

  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const name = line.slice(1).trim().toLowerCase();
      section = sections.get(name) ?? new Map<string, string>();
      sections.set(name, section);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      ignoredLines++;
      continue;
    }
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    section.set(key, value);
    fields.set(key, value);

    let typedOk = true;
    const db = DB_KEY.exec(key);
    if (db) {
      const stat = parseKeyspace(db[1] as string, value);
      if (stat) keyspace.push(stat);
      else typedOk = false;
    } else if (key.startsWith(CMDSTAT)) {
      const stat = parseCommandStat(key.slice(CMDSTAT.length).toLowerCase(), value);
      if (stat) commands.push(stat);
      else typedOk = false;
    } else if (key.startsWith(LATENCY)) {
      const stat = parseLatency(key.slice(LATENCY.length).toLowerCase(), value);
      if (stat) latency.push(stat);
      else typedOk = false;
    }
    if (!typedOk) ignoredLines++;
  }

  if (sections.get('')?.size === 0) sections.delete('');
  if (fields.size === 0) {
    const first = text.trim().split(/\r?\n/, 1)[0] ?? '';
    return {
      ok: false,
      reason:
        text.trim() === '' ? 'empty INFO reply' : `no field:value lines in INFO reply (starts "${first.slice(0, 60)}")`,
    };
  }
  return { ok: true, info: { sections, fields, keyspace, commands, latency, ignoredLines } };
}

/** A numeric INFO field, or undefined when absent or not a number. */
export function infoNumber(info: RedisInfo, field: string): number | undefined {
  return parseInfoNumber(info.fields.get(field));
}
