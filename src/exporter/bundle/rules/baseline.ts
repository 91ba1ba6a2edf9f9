import { formatPromDuration, parsePromDuration } from '../prom-duration.js';
import type { Thresholds } from '../thresholds-schema.js';
import { buildAlert, defined } from './alert.js';
import { num, rateName } from './promql.js';
import { serviceNames } from './recording.js';
import type { RecordingRule, RuleGroup } from './types.js';

/*
 * Week-over-week baselines, after GitLab's runbooks: the prediction for now is the median of the same hour 1, 2
 * and 3 weeks ago (each an hour-long average centred on that moment), plus the weekly trend (this week's average
 * minus last week's). A drop is judged by the ratio of the current rate to that prediction: daily seasonality does
 * not inflate a ratio the way it inflates a raw weekly standard deviation (a service at 40 req/s by day and 3 by
 * night has a weekly sigma so wide that a drop to 30 % at 10 a.m. stays within 2 sigma). The prediction is absent
 * until three weeks of history exist, so new installations stay silent instead of guessing.
 */

export function baselineNames(t: Thresholds) {
  const r = rateName(t.evaluation.rollup_window);
  return {
    requests: `job_log:crm_http_requests:${r}`,
    errors: `job_log:crm_http_requests_errors:${r}`,
    errorRatio: `job_log:crm_http_requests_errors:ratio_${r}`,
    weekly: 'job_log:crm_http_requests:rate1w',
    requestsBaseline: `job_log:crm_http_requests:${r}_baseline`,
    errorRatioBaseline: `job_log:crm_http_requests_errors:ratio_${r}_baseline`,
  };
}

/** Offset that centres a rollup-window average, recorded at its end, on the moment `weeks` weeks ago. */
function centredOffset(t: Thresholds, weeks: number): string {
  const week = 7 * 24 * 3_600_000;
  return formatPromDuration(weeks * week - Math.round((parsePromDuration(t.evaluation.rollup_window) ?? 0) / 2));
}

/** Median of `series` 1, 2 and 3 weeks back, each looked up at `offset(weeks)`. */
function median(series: string, offset: (weeks: number) => string): string {
  const parts = [1, 2, 3].map((w) => `label_replace(${series} offset ${offset(w)}, "offset", "${w}w", "", "")`);
  return `quantile without (offset) (0.5,\n    ${parts.join('\n  or\n    ')}\n)`;
}

export function baselineRecordingGroup(t: Thresholds): RuleGroup | undefined {
  if (!t.baseline.enabled) return undefined;
  const b = baselineNames(t);
  const svc = serviceNames(t.evaluation.rate_window);
  const rollup = t.evaluation.rollup_window;
  const history = `${b.requests} offset ${centredOffset(t, 3)}`;
  const centred = (weeks: number): string => centredOffset(t, weeks);
  const rules: RecordingRule[] = [
    { record: b.requests, expr: `avg_over_time(${svc.requests}[${rollup}])` },
    { record: b.errors, expr: `avg_over_time(${svc.errors}[${rollup}])` },
    { record: b.errorRatio, expr: `${b.errors} / (${b.requests} > 0)` },
    { record: b.weekly, expr: `avg_over_time(${b.requests}[1w])` },
    {
      record: b.requestsBaseline,
      expr: `clamp_min(\n  ${median(b.requests, centred).replace(/\n/g, '\n  ')}\n  + on (cluster, job, log) (${b.weekly} - ${b.weekly} offset 1w),\n  0\n)\nand on (cluster, job, log) ${history}`,
    },
    { record: b.errorRatioBaseline, expr: `${median(b.errorRatio, centred)}\nand on (cluster, job, log) ${history}` },
  ];
  return { name: 'crm-exporter.baseline.rules', interval: t.evaluation.slow_interval, rules };
}

export function baselineAlertGroup(t: Thresholds): RuleGroup | undefined {
  if (!t.baseline.enabled) return undefined;
  const b = baselineNames(t);
  const svc = serviceNames(t.evaluation.rate_window);
  const drop = t.alerts.CrmThroughputBelowBaseline;
  const rise = t.alerts.CrmErrorRatioAboveBaseline;
  // The same five minutes of the last three weeks, aligned with the current rate_window rate.
  const sameMinutes = median(svc.requests, (weeks) => `${weeks}w`);
  const rules = defined([
    buildAlert(t, 'CrmThroughputBelowBaseline', {
      // The ratio current / predicted; a prediction under min_baseline_rps (quiet hours) is not judged at all. The
      // prediction averages an hour centred on now, so where traffic ramps up from a quiet night (or falls to zero
      // in the evening) it runs up to half an hour ahead of the 5m rate, and the ratio drops below `ratio` although
      // nothing is wrong. A drop must therefore also show against the same minutes of the past weeks, which ramp
      // exactly like today.
      expr: `${svc.requests}\n/ on (cluster, job, log)\n(${b.requestsBaseline} >= ${num(Math.max(drop.min_baseline_rps, 1e-9))})\n< ${num(drop.ratio)}\nand on (cluster, job, log)\n${svc.requests}\n< on (cluster, job, log)\n${num(drop.ratio)} * ${sameMinutes}`,
      summary: 'CRM throughput is far below what the same hour of the last three weeks predicts.',
      description: `Log {{ $labels.log }} (job {{ $labels.job }}) serves {{ $value | humanizePercentage }} of the requests the same hour of the last three weeks predicts (alert below ${num(drop.ratio * 100)} %).`,
    }),
    buildAlert(t, 'CrmErrorRatioAboveBaseline', {
      expr: `${svc.errorRatio}\n> on (cluster, job, log)\n(${num(rise.factor)} * ${b.errorRatioBaseline} + ${num(rise.margin)})\nand on (cluster, job, log) ${svc.requests} >= ${num(rise.min_rps)}`,
      summary: 'The CRM error ratio is well above what the same hour of the last three weeks predicts.',
      description: `Log {{ $labels.log }} (job {{ $labels.job }}) answers {{ $value | humanizePercentage }} of requests with 5xx, more than ${num(rise.factor)}x the usual ratio for this hour plus ${num(rise.margin * 100)} points.`,
    }),
  ]);
  return rules.length > 0 ? { name: 'crm-exporter.baseline.alerts', rules } : undefined;
}
