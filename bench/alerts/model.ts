/*
 * A synthetic CRM week after week: daily and weekly seasonality (40 req/s at the weekday peak, 3 at night,
 * weekends at 40 %), multiplicative noise, a small error ratio and a latency distribution over the exporter's
 * buckets, sampled once a minute. Deterministic: a seeded PRNG, so every run replays the same minutes.
 */
import { prng } from '../../test/helpers/prng.js';

export const MINUTE = 60;
export const DAY_MINUTES = 24 * 60;
export const WEEK_MINUTES = 7 * DAY_MINUTES;

export interface Minute {
  /** Requests per second during this minute. */
  rps: number;
  /** Share answered 5xx. */
  errorRatio: number;
  /** Cumulative share of requests at or under each bucket boundary (same order as BUCKETS). */
  latencyCdf: number[];
  probeUp: boolean;
  pgUp: boolean;
}

export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Healthy latency: p50 ~ 20 ms, p95 ~ 120 ms, p99 ~ 400 ms. */
export const HEALTHY_CDF = [0.05, 0.2, 0.45, 0.7, 0.9, 0.97, 0.992, 0.998, 0.9995, 1, 1];
/** A latency regression: a fifth of the requests take about a second. */
export const SLOW_CDF = [0.04, 0.16, 0.36, 0.56, 0.72, 0.78, 0.795, 0.95, 0.995, 1, 1];

/** Expected requests per second at minute `m` of the simulation (minute 0 = Monday 00:00). */
export function seasonalRps(m: number, quietNights: boolean): number {
  const minuteOfWeek = m % WEEK_MINUTES;
  const day = Math.floor(minuteOfWeek / DAY_MINUTES);
  const hour = (minuteOfWeek % DAY_MINUTES) / 60;
  const night = quietNights ? 0 : 3;
  // Working hours 7:00-19:00 follow a sine bump peaking at 13:00; weekends (days 5, 6) at 40 %.
  const bump = hour >= 7 && hour <= 19 ? Math.sin((Math.PI * (hour - 7)) / 12) : 0;
  const peak = day >= 5 ? 16 : 40;
  return night + (peak - 3) * bump;
}

export interface Fault {
  kind: 'error-burst' | 'latency' | 'traffic-drop' | 'postgres-down';
  /** Minute the fault starts and how long it lasts. */
  start: number;
  minutes: number;
}

export function simulate(
  totalMinutes: number,
  options: { seed: number; quietNights?: boolean; fault?: Fault },
): Minute[] {
  const random = prng(options.seed);
  const out: Minute[] = [];
  for (let m = 0; m < totalMinutes; m++) {
    const noise = 1 + (random() - 0.5) * 0.2;
    const f = options.fault;
    const inFault = f !== undefined && m >= f.start && m < f.start + f.minutes;
    let rps = seasonalRps(m, options.quietNights ?? false) * noise;
    let errorRatio = 0.0002 * (1 + (random() - 0.5));
    let latencyCdf = HEALTHY_CDF;
    let pgUp = true;
    if (inFault && f.kind === 'error-burst') errorRatio = 0.3;
    if (inFault && f.kind === 'latency') latencyCdf = SLOW_CDF;
    if (inFault && f.kind === 'traffic-drop') rps *= 0.3;
    if (inFault && f.kind === 'postgres-down') {
      pgUp = false;
      errorRatio = 0.6; // every request that needs the database answers 503
    }
    out.push({ rps, errorRatio, latencyCdf, probeUp: true, pgUp });
  }
  return out;
}
