import { parsePromDuration } from '../prom-duration.js';
import type { Thresholds } from '../thresholds-schema.js';
import { alertRule } from './alert.js';
import { leMatcher, num, rateName } from './promql.js';
import { serviceNames } from './recording.js';
import type { AlertingRule, RecordingRule, RuleGroup } from './types.js';

/*
 * SLOs with multi-window, multi-burn-rate alerts (the SRE workbook's recipe). Each SLO is two recorded rates with
 * an `slo` label: requests that count, and the ones that broke the objective. Every window's error ratio is
 * sum(errors) / sum(requests) over recorded rates, never rate(x[30d]) over raw series: windows up to the
 * day come from the rate_window series, a day and longer from hourly roll-ups, so a 30-day window reads one
 * sample per slow_interval per series. Summing rates (rather than averaging ratios) weights every minute by its traffic, and a
 * window without traffic has no ratio at all, so 0/0 never poisons the long windows.
 */

export type SloName = 'availability' | 'latency';

export interface Slo {
  name: SloName;
  objective: number;
  /** The error budget: the share of requests allowed to fail, 1 - objective. */
  budget: number;
}

export function enabledSlos(t: Thresholds): Slo[] {
  const out: Slo[] = [];
  if (t.slo.availability.enabled)
    out.push({
      name: 'availability',
      objective: t.slo.availability.objective,
      budget: 1 - t.slo.availability.objective,
    });
  if (t.slo.latency.enabled)
    out.push({ name: 'latency', objective: t.slo.latency.objective, budget: 1 - t.slo.latency.objective });
  return out;
}

export function sloNames(t: Thresholds) {
  const rollup = t.evaluation.rollup_window;
  return {
    requests: `job_log:crm_slo_requests:${rateName(t.evaluation.rate_window)}`,
    errors: `job_log:crm_slo_errors:${rateName(t.evaluation.rate_window)}`,
    rollupRequests: `job_log:crm_slo_requests:${rateName(rollup)}`,
    rollupErrors: `job_log:crm_slo_errors:${rateName(rollup)}`,
    errorRatio: (window: string) => `job_log:crm_slo_errors:ratio_${rateName(window)}`,
    burnRate: (window: string) => `job_log:crm_slo_burn_rate:ratio_${rateName(window)}`,
    budgetRemaining: `job_log:crm_slo_error_budget_remaining:ratio_${rateName(t.slo.period)}`,
  };
}

/** Every window a ratio is recorded for: the burn-rate windows of both tiers and the period, shortest first. */
export function sloWindows(t: Thresholds): string[] {
  const windows = new Set<string>([t.evaluation.rate_window, t.slo.period]);
  for (const tier of [t.slo.page, t.slo.ticket]) {
    if (!tier.enabled) continue;
    for (const w of tier.windows) windows.add(w.long).add(w.short);
  }
  return [...windows].sort((a, b) => (parsePromDuration(a) ?? 0) - (parsePromDuration(b) ?? 0));
}

const ms = (d: string): number => parsePromDuration(d) ?? 0;

/** Windows of at least this many roll-ups (1d with the default 1h) are summed from roll-ups, shorter ones from rate_window series. */
export const ROLLUP_FROM = 24;

export function fromRollups(t: Thresholds, window: string): boolean {
  return ms(window) >= ROLLUP_FROM * ms(t.evaluation.rollup_window);
}

/** The window the dashboards show as "current burn rate": the page tier's first long window. */
export function currentBurnWindow(t: Thresholds): string {
  return t.slo.page.windows[0]?.long ?? t.evaluation.rollup_window;
}

export function sloRecordingGroups(t: Thresholds): RuleGroup[] {
  const slos = enabledSlos(t);
  if (slos.length === 0) return [];
  const n = sloNames(t);
  const svc = serviceNames(t.evaluation.rate_window);
  const base: RecordingRule[] = [];
  for (const slo of slos) {
    const labels = { slo: slo.name };
    if (slo.name === 'availability') {
      // Good = answered without a server error (5xx).
      base.push({ record: n.requests, expr: svc.requests, labels }, { record: n.errors, expr: svc.errors, labels });
    } else {
      // Good = answered within the latency threshold (a bucket boundary: exact, no interpolation).
      base.push(
        { record: n.requests, expr: svc.count, labels },
        {
          record: n.errors,
          expr: `clamp_min(${svc.count} - on (cluster, job, log) sum by (cluster, job, log) (${svc.buckets}{${leMatcher(t.slo.latency.threshold)}}), 0)`,
          labels,
        },
      );
    }
  }
  const rollup = t.evaluation.rollup_window;
  const short: RecordingRule[] = [];
  const long: RecordingRule[] = [
    { record: n.rollupRequests, expr: `avg_over_time(${n.requests}[${rollup}])` },
    { record: n.rollupErrors, expr: `avg_over_time(${n.errors}[${rollup}])` },
  ];
  for (const window of sloWindows(t)) {
    if (window === t.evaluation.rate_window) {
      short.push({ record: n.errorRatio(window), expr: `${n.errors} / (${n.requests} > 0)` });
    } else if (!fromRollups(t, window)) {
      short.push({
        record: n.errorRatio(window),
        expr: `sum_over_time(${n.errors}[${window}])\n/ (sum_over_time(${n.requests}[${window}]) > 0)`,
      });
    } else {
      long.push({
        record: n.errorRatio(window),
        expr: `sum_over_time(${n.rollupErrors}[${window}])\n/ (sum_over_time(${n.rollupRequests}[${window}]) > 0)`,
      });
    }
  }
  const burnWindow = currentBurnWindow(t);
  const burnGroup = fromRollups(t, burnWindow) ? long : short;
  for (const slo of slos) {
    burnGroup.push({
      record: n.burnRate(burnWindow),
      expr: `${n.errorRatio(burnWindow)}{slo="${slo.name}"} / ${num(slo.budget)}`,
      labels: { slo: slo.name },
    });
    long.push({
      record: n.budgetRemaining,
      expr: `1 - ${n.errorRatio(t.slo.period)}{slo="${slo.name}"} / ${num(slo.budget)}`,
      labels: { slo: slo.name },
    });
  }
  return [
    { name: 'crm-exporter.slo.rules', rules: [...base, ...short] },
    { name: 'crm-exporter.slo-long.rules', interval: t.evaluation.slow_interval, rules: long },
  ];
}

export function sloAlertGroup(t: Thresholds): RuleGroup | undefined {
  const slos = enabledSlos(t);
  const n = sloNames(t);
  const rules: AlertingRule[] = [];
  for (const [tierName, tier] of [
    ['Page', t.slo.page],
    ['Ticket', t.slo.ticket],
  ] as const) {
    if (!tier.enabled || slos.length === 0) continue;
    // One alert per tier; `slo` tells which objective burns. Both windows of a pair must exceed the factor:
    // the long one proves the burn is significant, the short one that it is still going on (fast reset).
    const branches = slos.flatMap((slo) =>
      tier.windows.map(
        (w) =>
          `(\n  ${n.errorRatio(w.long)}{slo="${slo.name}"} / ${num(slo.budget)} > ${num(w.factor)}\n  and\n  ${n.errorRatio(w.short)}{slo="${slo.name}"} / ${num(slo.budget)} > ${num(w.factor)}\n)`,
      ),
    );
    const windows = tier.windows.map((w) => `${w.factor}x over ${w.long} and ${w.short}`).join(', or ');
    rules.push(
      alertRule(t, `CrmErrorBudgetBurn${tierName}`, tier.severity, tier.for, {
        expr: branches.join('\nor\n'),
        summary:
          tierName === 'Page'
            ? 'The CRM is burning its SLO error budget fast enough to exhaust it within days.'
            : 'The CRM is burning its SLO error budget faster than the SLO period allows.',
        description: `The {{ $labels.slo }} SLO of log {{ $labels.log }} (job {{ $labels.job }}) burns its error budget at {{ $value | printf "%.1f" }}x the sustainable rate (${tierName.toLowerCase()} tier: ${windows}).`,
      }),
    );
  }
  return rules.length > 0 ? { name: 'crm-exporter.slo.alerts', rules } : undefined;
}
