import { z } from 'zod';
import { parseDurationMs } from './duration.js';

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

export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
      .default(DEFAULT_BUCKETS),
    max_line_bytes: z
      .number()
      .int()
      .min(256)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    poll_interval: duration(...DURATION_BOUNDS.poll_interval).default(1000),
  })
  .superRefine((src, ctx) => {
    if (src.format === 'regex' && !src.pattern)
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'required when format is regex' });
    if (src.format !== 'regex' && src.pattern)
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'only allowed when format is regex' });
    if (src.format !== 'nginx' && src.log_format)
      ctx.addIssue({ code: 'custom', path: ['log_format'], message: 'only allowed when format is nginx' });
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
    .default({ enabled: true, limit: 50, query_length: 200 }),
  max_tables: z.number().int().min(0).max(100_000).default(200),
  max_indexes: z.number().int().min(0).max(100_000).default(200),
  /** How often pg_database_size() is read per database; 0 = every scrape (see docs/metrics.md, PostgreSQL). */
  database_size_interval: duration(...DURATION_BOUNDS.database_size_interval, 'every scrape').default(60_000),
  timeout: duration(...DURATION_BOUNDS.postgres_timeout).default(5000),
});

const redis = z.strictObject({
  url: z.string().min(1),
  password_file: filePath.optional(),
  timeout: duration(...DURATION_BOUNDS.redis_timeout).default(3000),
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
  url: z.url({ protocol: /^https?$/ }),
  timeout: duration(...DURATION_BOUNDS.probe_timeout).default(2000),
  expected_status: z.number().int().min(100).max(599).optional(),
});

const scrape = z
  .strictObject({
    /** Deadline used when Prometheus sends no X-Prometheus-Scrape-Timeout-Seconds header. */
    default_timeout: duration(...DURATION_BOUNDS.scrape_timeout).default(10_000),
    /** Upper bound for the deadline whatever the header says. */
    max_timeout: duration(...DURATION_BOUNDS.scrape_timeout).default(30_000),
    /** Time kept back from Prometheus's timeout to serialise and send the answer. */
    margin: duration(...DURATION_BOUNDS.scrape_margin).default(500),
  })
  .default({ default_timeout: 10_000, max_timeout: 30_000, margin: 500 });

export const configSchema = z
  .strictObject({
    listen: hostPort.default('0.0.0.0:9464'),
    /** exporter-toolkit web configuration (TLS, Basic auth) for every endpoint; see src/exporter/config/web-config.ts. */
    web_config_file: filePath.optional(),
    positions_file: filePath.default('./var/positions.json'),
    positions_interval: duration(...DURATION_BOUNDS.positions_interval).default(5000),
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
