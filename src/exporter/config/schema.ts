// zod's classic API, kept in the zod package as `zod/v3`: one module where zod 4's API is a graph of ~40 modules whose
// load alone holds ~9 MiB more resident memory in the running exporter (bench/RESULTS.md, bench:footprint). The
// bundle generator (thresholds-schema.ts) is not in the running process and keeps zod 4's API.
import { z } from 'zod/v3';
import { parseDurationMs } from './duration.js';
import { DEFAULT_BUCKETS } from './buckets.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** "1500" ms -> "1.5s": bounds and values in messages, in the units the config is written in. */
function showMs(ms: number): string {
  if (ms >= HOUR && ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms >= MINUTE && ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms >= SECOND) return `${ms / SECOND}s`;
  return `${ms}ms`;
}

/**
 * A duration written as "500ms", "5s", "2m" or a number of seconds; resolves to milliseconds, within the key's
 * bounds (`zero`: 0 is also allowed and means what the key says). Every duration key has bounds: 0 would disable a
 * timeout or spin a timer, and past 2^31-1 ms Node fires a timer after 1 ms.
 */
function duration(min: number, max: number, zero?: string) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDurationMs(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${String(value)}" is not a duration (use e.g. 500ms, 5s, 2m)` });
      return z.NEVER;
    }
    if ((ms === 0 && zero !== undefined) || (ms >= min && ms <= max)) return ms;
    const or = zero === undefined ? '' : `, or 0 (${zero})`;
    ctx.addIssue({
      code: 'custom',
      message: `must be between ${showMs(min)} and ${showMs(max)}${or} (got ${showMs(ms)})`,
    });
    return z.NEVER;
  });
}

/** A duration default as the config would write it: zod 3 parses a default like any input (a bare number is seconds). */
const inMs = (ms: number): string => `${ms}ms`;

/** The bounds of every duration key, for the schema and the docs (crm-exporter.example.yaml repeats them). */
export const DURATION_BOUNDS = {
  positions_interval: [100, HOUR],
  poll_interval: [10, HOUR],
  postgres_timeout: [100, 5 * MINUTE],
  database_size_interval: [SECOND, 24 * HOUR],
  redis_timeout: [100, 5 * MINUTE],
  probe_timeout: [100, 5 * MINUTE],
  scrape_timeout: [100, 10 * MINUTE],
  scrape_margin: [0, MINUTE],
} as const satisfies Record<string, readonly [number, number]>;

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^\s:]*):\d{1,5}$/, 'must be "host:port" (e.g. 0.0.0.0:9464 or :9464)')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65_535, 'port must be 0-65535');

/** A file path: not blank (a path of spaces names a file nobody meant). */
const filePath = z.string().min(1).regex(/\S/, 'must not be blank');

const jsonFields = z.strictObject({
  method: z.string().min(1).default('method'),
  path: z.string().min(1).default('path'),
  /** Optional key holding the application's own route template; preferred over templating `path`. */
  route: z.string().min(1).nullable().default('route'),
  status: z.string().min(1).default('status'),
  duration: z.string().min(1).default('duration_ms'),
  duration_unit: z.enum(['ms', 's']).default('ms'),
  bytes: z.string().min(1).nullable().default('bytes'),
  db_time: z.string().min(1).nullable().default('db_ms'),
  cache_time: z.string().min(1).nullable().default('cache_ms'),
  /** Unit of db_time, cache_time and lock_wait. */
  phase_unit: z.enum(['ms', 's']).default('ms'),
  cache: z.string().min(1).nullable().default('cache'),
  lock: z.string().min(1).nullable().default('lock'),
  lock_wait: z.string().min(1).nullable().default('lock_wait_ms'),
});

export { DEFAULT_BUCKETS };

/** Defaults of the glob keys (applied where used, so a LogSourceConfig written in code may leave them out). */
export const DEFAULT_MAX_FILES = 100;
export const DEFAULT_MAX_PATH_LABEL_VALUES = 100;

/** The container-log wrappers `container_format` accepts (docs/container-logs.md). */
export const CONTAINER_FORMATS = ['cri', 'docker'] as const;

/**
 * Label names a path label may not take: the log metrics' own labels (`log`, `method`, `route`, `status`, `le`,
 * `phase`, `result`, `reason`), `quantile`, and the target labels Prometheus attaches (`job`, `instance`).
 */
export const RESERVED_LABEL_NAMES = [
  'log',
  'method',
  'route',
  'status',
  'le',
  'phase',
  'result',
  'reason',
  'quantile',
  'job',
  'instance',
] as const;

/** Whether a path holds glob characters (`*`, `?`, `[`): such a source follows every file that matches. */
export const isGlob = (path: string): boolean => /[*?[]/.test(path);

function globProblems(path: string): string[] {
  if (!isGlob(path)) return [];
  const problems: string[] = [];
  if (path.includes('**')) problems.push('"**" is not supported in a glob (one "*" matches within one path segment)');
  if (/\[[^\]]*(\/|$)/.test(path)) problems.push('a "[" in a glob must be closed by "]" within its path segment');
  return problems;
}

/** The named groups of a path_labels regex, and what is wrong with it (empty when usable). */
export function pathLabelProblems(pattern: string): string[] {
  if (pattern.includes('(?P<')) return ['write named groups as (?<name>...) (JavaScript), not (?P<name>...)'];
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    return [`not a valid regular expression: ${(err as Error).message}`];
  }
  const names = pathLabelNames(re);
  if (names.length === 0) return ['must have at least one named group, e.g. (?<namespace>[^_]+)'];
  const problems: string[] = [];
  for (const name of names) {
    if ((RESERVED_LABEL_NAMES as readonly string[]).includes(name))
      problems.push(`group "${name}" clashes with a label the exporter sets (${RESERVED_LABEL_NAMES.join(', ')})`);
    else if (name.startsWith('__')) problems.push(`group "${name}": label names starting with "__" are reserved`);
    else if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))
      problems.push(`group "${name}" is not a label name (letters, digits and _, not starting with a digit)`);
  }
  return problems;
}

/** The named groups of `re`, in the order they appear. */
export function pathLabelNames(re: RegExp): string[] {
  // Capturing group names as the source spells them; the regex itself rejects duplicates and bad names.
  const names: string[] = [];
  for (const m of re.source.matchAll(/(?<!\\)\(\?<([A-Za-z_$][\w$]*)>/g)) names.push(m[1] as string);
  return names;
}

const logSource = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$/,
        'must be 1-64 characters of letters, digits, _ . -, starting with a letter or _',
      ),
    path: filePath,
    format: z.enum(['json', 'nginx', 'regex']),
    log_format: z.string().min(1).optional(),
    pattern: z.string().min(1).optional(),
    fields: jsonFields.optional(),
    routes: z.array(z.string().regex(/^\//, 'must start with /')).default([]),
    max_routes: z.number().int().min(1).max(10_000).default(200),
    /** Longest route label in characters; longer routes are cut to a prefix ending in `/*` (issue 11 A3). */
    max_route_length: z.number().int().min(16).max(4096).default(128),
    start_at: z.enum(['end', 'beginning']).default('end'),
    buckets: z
      .array(z.number().positive())
      .min(1)
      .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), 'must be strictly increasing')
      .default([...DEFAULT_BUCKETS]),
    max_line_bytes: z
      .number()
      .int()
      .min(256)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    poll_interval: duration(...DURATION_BOUNDS.poll_interval).default(inMs(1000)),
    /** Lines wrapped by a container runtime: unwrapped (and split records joined) before `format` parses them. */
    container_format: z.enum(CONTAINER_FORMATS).optional(),
    /** The container's stream(s) holding the access log (container_format only); the other one's records are skipped. */
    container_stream: z.enum(['stdout', 'stderr', 'both']).optional(),
    /** A glob in `path`: most files tailed at once (default DEFAULT_MAX_FILES); more are skipped and counted. */
    max_files: z.number().int().min(1).max(10_000).optional(),
    /** Named-group regex over each file's path; each group becomes a label on that file's log metrics. */
    path_labels: z.string().min(1).optional(),
    /** Distinct values per path label (default DEFAULT_MAX_PATH_LABEL_VALUES); further values become `__other__`. */
    max_path_label_values: z.number().int().min(1).max(10_000).optional(),
  })
  .superRefine((src, ctx) => {
    for (const problem of globProblems(src.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: problem });
    if (src.path_labels !== undefined)
      for (const problem of pathLabelProblems(src.path_labels))
        ctx.addIssue({ code: 'custom', path: ['path_labels'], message: problem });
    if (src.format === 'regex' && !src.pattern)
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'required when format is regex' });
    if (src.format !== 'regex' && src.pattern)
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'only allowed when format is regex' });
    if (src.format !== 'nginx' && src.log_format)
      ctx.addIssue({ code: 'custom', path: ['log_format'], message: 'only allowed when format is nginx' });
    if (src.container_stream !== undefined && src.container_format === undefined)
      ctx.addIssue({ code: 'custom', path: ['container_stream'], message: 'only allowed with container_format' });
    if (src.format !== 'json' && src.fields)
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'only allowed when format is json' });
    src.routes.forEach((r, i) => {
      if (r.length > src.max_route_length)
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i],
          message: `longer than max_route_length (${src.max_route_length})`,
        });
    });
  })
  .transform((src) => ({ ...src, fields: src.format === 'json' ? (src.fields ?? jsonFields.parse({})) : undefined }));

const postgres = z.strictObject({
  url: z.string().min(1),
  password_file: filePath.optional(),
  databases: z.union([z.literal('auto'), z.array(z.string().min(1)).min(1)]).default('auto'),
  max_databases: z.number().int().min(1).max(1000).default(20),
  statements: z
    .strictObject({
      enabled: z.boolean().default(true),
      limit: z.number().int().min(1).max(1000).default(50),
      query_length: z.number().int().min(16).max(10_000).default(200),
    })
    .default({}),
  max_tables: z.number().int().min(0).max(100_000).default(200),
  max_indexes: z.number().int().min(0).max(100_000).default(200),
  /** How often pg_database_size() is read per database; 0 = every scrape (see docs/metrics.md, PostgreSQL). */
  database_size_interval: duration(...DURATION_BOUNDS.database_size_interval, 'every scrape').default(inMs(60_000)),
  timeout: duration(...DURATION_BOUNDS.postgres_timeout).default(inMs(5000)),
});

const redis = z.strictObject({
  url: z.string().min(1),
  password_file: filePath.optional(),
  timeout: duration(...DURATION_BOUNDS.redis_timeout).default(inMs(3000)),
  key_groups: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label-safe identifier'),
        pattern: z.string().min(1),
      }),
    )
    .default([]),
  key_group_scan_budget: z.number().int().min(1).max(10_000_000).default(10_000),
});

const probe = z.strictObject({
  url: z
    .string()
    .url()
    .refine((url) => /^https?:\/\//i.test(url), 'must be an http:// or https:// URL'),
  timeout: duration(...DURATION_BOUNDS.probe_timeout).default(inMs(2000)),
  expected_status: z.number().int().min(100).max(599).optional(),
});

const scrape = z
  .strictObject({
    /** Deadline used when Prometheus sends no X-Prometheus-Scrape-Timeout-Seconds header. */
    default_timeout: duration(...DURATION_BOUNDS.scrape_timeout).default(inMs(10_000)),
    /** Upper bound for the deadline whatever the header says. */
    max_timeout: duration(...DURATION_BOUNDS.scrape_timeout).default(inMs(30_000)),
    /** Time kept back from Prometheus's timeout to serialise and send the answer. */
    margin: duration(...DURATION_BOUNDS.scrape_margin).default(inMs(500)),
  })
  .default({});

export const configSchema = z
  .strictObject({
    listen: hostPort.default('0.0.0.0:9464'),
    /** exporter-toolkit web configuration (TLS, Basic auth) for every endpoint; see src/exporter/config/web-config.ts. */
    web_config_file: filePath.optional(),
    positions_file: filePath.default('./var/positions.json'),
    positions_interval: duration(...DURATION_BOUNDS.positions_interval).default(inMs(5000)),
    logs: z.array(logSource).default([]),
    postgres: postgres.optional(),
    redis: redis.optional(),
    probe: probe.optional(),
    scrape,
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.logs.forEach((src, i) => {
      if (seen.has(src.name))
        ctx.addIssue({ code: 'custom', path: ['logs', i, 'name'], message: `duplicate source name "${src.name}"` });
      seen.add(src.name);
    });
    const groups = new Set<string>();
    cfg.redis?.key_groups.forEach((group, i) => {
      if (groups.has(group.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['redis', 'key_groups', i, 'name'],
          message: `duplicate key group name "${group.name}"`,
        });
      }
      groups.add(group.name);
    });
    // The deadline is min(header or default_timeout, max_timeout) - margin: a margin that eats the timeout leaves
    // every scrape the 100 ms floor, and a default above the maximum is never used.
    const { default_timeout: byDefault, max_timeout: max, margin } = cfg.scrape;
    if (byDefault > max)
      ctx.addIssue({
        code: 'custom',
        path: ['scrape', 'default_timeout'],
        message: `must not exceed scrape.max_timeout (${showMs(max)})`,
      });
    if (margin >= Math.min(byDefault, max)) {
      ctx.addIssue({
        code: 'custom',
        path: ['scrape', 'margin'],
        message: `must be less than the scrape timeouts (${showMs(Math.min(byDefault, max))})`,
      });
    }
  });

export type Config = z.output<typeof configSchema>;
export type LogSourceConfig = Config['logs'][number];
export type JsonFieldsConfig = z.output<typeof jsonFields>;
export type PostgresConfig = NonNullable<Config['postgres']>;
export type RedisConfig = NonNullable<Config['redis']>;
export type ProbeConfig = NonNullable<Config['probe']>;
