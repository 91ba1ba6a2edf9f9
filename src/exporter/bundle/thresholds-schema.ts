import { z } from 'zod';
import { formatPromDuration, parsePromDuration } from './prom-duration.js';

/*
 * The schema of alerting/thresholds.yaml: the one file the rules, the alerts and the dashboards are generated from.
 * Every key has a default, so an empty file renders the shipped bundle; unknown keys are rejected.
 */

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A Prometheus duration ("5m", "1h30m", "3d"), kept as its canonical string; `0s` only where `allowZero`. */
function promDuration(allowZero = false) {
  return z.string().transform((value, ctx) => {
    if (allowZero && /^0+(ms|s|m|h|d|w)?$/.test(value)) return '0s';
    const ms = parsePromDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a Prometheus duration (e.g. 30s, 5m, 1h, 3d)` });
      return z.NEVER;
    }
    return formatPromDuration(ms);
  });
}

const ratio = z.number().min(0).max(1);
const nonNegative = z.number().min(0);

/** Every alert has enabled, severity and for; `extra` adds the alert's own parameters, each with its default. */
function alert<S extends z.ZodRawShape>(defaults: { severity: Severity; for: string; enabled?: boolean }, extra: S) {
  const schema = z.strictObject({
    enabled: z.boolean().default(defaults.enabled ?? true),
    severity: z.enum(SEVERITIES).default(defaults.severity),
    for: promDuration(true).default(defaults.for),
    ...extra,
  });
  // Every field has a default, so {} is a valid input; TypeScript cannot see that through the generic S.
  return schema.prefault({} as z.input<typeof schema>);
}

const alerts = z
  .strictObject({
    // Service (from the access log, the probe and `up`).
    CrmErrorRatioHigh: alert(
      { severity: 'critical', for: '5m' },
      { threshold: ratio.default(0.05), min_rps: nonNegative.default(0.1) },
    ),
    CrmLatencyP95High: alert(
      { severity: 'warning', for: '5m' },
      { threshold: z.number().positive().default(0.5), min_rps: nonNegative.default(0.1) },
    ),
    CrmLatencyP99High: alert(
      { severity: 'critical', for: '5m' },
      { threshold: z.number().positive().default(2.5), min_rps: nonNegative.default(0.1) },
    ),
    CrmThroughputBelowFloor: alert(
      { severity: 'warning', for: '15m', enabled: false },
      { min_rps: z.number().positive().default(1) },
    ),
    CrmAvailabilityBelowObjective: alert(
      { severity: 'warning', for: '5m' },
      { threshold: ratio.default(0.99), window: promDuration().default('1h') },
    ),
    CrmApdexLow: alert(
      { severity: 'warning', for: '10m' },
      { threshold: ratio.default(0.85), min_rps: nonNegative.default(0.1) },
    ),
    CrmExporterDown: alert({ severity: 'critical', for: '2m' }, {}),
    CrmLogStale: alert({ severity: 'warning', for: '5m' }, { after: promDuration().default('10m') }),
    CrmLogParseErrors: alert({ severity: 'warning', for: '10m' }, { threshold: ratio.default(0.01) }),
    CrmLogRouteOverflow: alert({ severity: 'warning', for: '0s' }, { window: promDuration().default('1h') }),
    CrmCollectorFailing: alert({ severity: 'warning', for: '5m' }, {}),
    CrmLockContention: alert(
      { severity: 'warning', for: '10m' },
      { threshold: ratio.default(0.1), min_rps: nonNegative.default(0.01) },
    ),
    // Baselines: the same hour of the last three weeks.
    CrmThroughputBelowBaseline: alert(
      { severity: 'warning', for: '15m' },
      { ratio: ratio.default(0.5), min_baseline_rps: nonNegative.default(1) },
    ),
    CrmErrorRatioAboveBaseline: alert(
      { severity: 'warning', for: '15m' },
      { factor: z.number().min(1).default(3), margin: ratio.default(0.01), min_rps: nonNegative.default(0.1) },
    ),
    // PostgreSQL.
    CrmPostgresDown: alert({ severity: 'critical', for: '1m' }, {}),
    CrmPostgresConnectionsNearMax: alert({ severity: 'warning', for: '5m' }, { threshold: ratio.default(0.8) }),
    CrmPostgresCacheHitRatioLow: alert(
      { severity: 'warning', for: '15m' },
      { threshold: ratio.default(0.9), min_blocks_per_second: nonNegative.default(100) },
    ),
    CrmPostgresDeadlocks: alert({ severity: 'warning', for: '0s' }, { window: promDuration().default('10m') }),
    CrmPostgresLongTransaction: alert(
      { severity: 'warning', for: '2m' },
      { threshold: z.number().positive().default(300) },
    ),
    CrmPostgresBlockedSessions: alert({ severity: 'warning', for: '2m' }, { threshold: nonNegative.default(3) }),
    CrmPostgresReplicationLag: alert(
      { severity: 'warning', for: '5m' },
      { threshold: z.number().positive().default(30) },
    ),
    CrmPostgresSeqScanHeavyTable: alert(
      { severity: 'info', for: '1h' },
      {
        min_live_rows: nonNegative.default(10000),
        threshold: ratio.default(0.5),
        min_seq_rows_per_second: nonNegative.default(1000),
      },
    ),
    CrmPostgresIndexUnused: alert(
      { severity: 'info', for: '1h' },
      { unused_for: promDuration().default('2w'), min_size_bytes: nonNegative.default(1048576) },
    ),
    CrmPostgresDeadRows: alert(
      { severity: 'warning', for: '30m' },
      {
        min_dead_rows: nonNegative.default(10000),
        threshold: ratio.default(0.2),
        autovacuum_age: promDuration().default('1d'),
      },
    ),
    // Redis.
    CrmRedisDown: alert({ severity: 'critical', for: '1m' }, {}),
    CrmRedisHitRatioLow: alert(
      { severity: 'warning', for: '15m' },
      { threshold: ratio.default(0.8), min_lookups_per_second: nonNegative.default(1) },
    ),
    CrmRedisMemoryNearMax: alert({ severity: 'warning', for: '5m' }, { threshold: ratio.default(0.9) }),
    CrmRedisEvictions: alert({ severity: 'warning', for: '15m' }, { threshold: nonNegative.default(0) }),
    CrmRedisRejectedConnections: alert({ severity: 'warning', for: '0s' }, { window: promDuration().default('5m') }),
  })
  .prefault({});

const burnWindow = z.strictObject({ long: promDuration(), short: promDuration(), factor: z.number().positive() });

const burnTier = (
  enabled: boolean,
  severity: Severity,
  forDuration: string,
  windows: Array<{ long: string; short: string; factor: number }>,
) =>
  z
    .strictObject({
      enabled: z.boolean().default(enabled),
      severity: z.enum(SEVERITIES).default(severity),
      for: promDuration(true).default(forDuration),
      windows: z.array(burnWindow).min(1).default(windows),
    })
    .prefault({});

const slo = z
  .strictObject({
    /** The compliance period of the error budget. */
    period: promDuration().default('30d'),
    availability: z
      .strictObject({ enabled: z.boolean().default(true), objective: z.number().gt(0).lt(1).default(0.999) })
      .prefault({}),
    latency: z
      .strictObject({
        enabled: z.boolean().default(true),
        objective: z.number().gt(0).lt(1).default(0.95),
        threshold: z.number().positive().default(0.5),
      })
      .prefault({}),
    page: burnTier(true, 'critical', '0s', [
      { long: '1h', short: '5m', factor: 14.4 },
      { long: '6h', short: '30m', factor: 6 },
    ]),
    ticket: burnTier(true, 'warning', '15m', [
      { long: '1d', short: '2h', factor: 3 },
      { long: '3d', short: '6h', factor: 1 },
    ]),
  })
  .prefault({});

export const DEFAULT_HISTOGRAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const thresholdsSchema = z.strictObject({
  /** Base of every alert's runbook_url; each alert appends `#<anchor>` of its section in runbook.md. */
  runbook_url: z.url().default('https://github.com/crm-exporter/crm-exporter/blob/main/alerting/runbook.md'),
  selectors: z
    .strictObject({
      /** Regex (anchored, as in PromQL) for the `job` label of the exporter's scrape config. */
      job: z.string().min(1).default('crm-exporter'),
      /** Regex for the exporter's `log` label (a `logs[].name`): the access logs the service numbers come from. */
      log: z.string().min(1).default('crm'),
      /** Regex of routes left out of the service numbers (health checks the probe itself causes). */
      exclude_routes: z.string().default('/healthz|/readyz'),
    })
    .prefault({}),
  /** The exporter's histogram buckets (`logs[].buckets`): latency thresholds of SLOs and Apdex must be among them. */
  buckets: z
    .array(z.number().positive())
    .min(1)
    .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), 'must be strictly increasing')
    .default(DEFAULT_HISTOGRAM_BUCKETS),
  evaluation: z
    .strictObject({
      /** Window of every rate() over raw series; shorter windows are not recorded. */
      rate_window: promDuration().default('5m'),
      /** Roll-up length: SLO windows of 24 roll-ups and more are summed from roll-ups; baselines compare roll-ups. */
      rollup_window: promDuration().default('1h'),
      /** Evaluation interval of the groups over long windows (roll-ups, SLO days, baselines). */
      slow_interval: promDuration().default('1m'),
    })
    .prefault({}),
  apdex: z.strictObject({ enabled: z.boolean().default(true), t: z.number().positive().default(0.25) }).prefault({}),
  slo,
  baseline: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How far back the weeks go that make the prediction (median of 1w, 2w, 3w ago). */
      weeks: z.literal(3).default(3),
    })
    .prefault({}),
  alerts,
});

export type Thresholds = z.output<typeof thresholdsSchema>;
export type AlertName = keyof Thresholds['alerts'];
export type BurnTier = Thresholds['slo']['page'];
