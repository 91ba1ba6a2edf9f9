import { FLEET_LABEL, num } from '../rules/promql.js';
import type { AlertName, Thresholds } from '../thresholds-schema.js';
import { neutral, redAbove, redBelow, type Steps } from './panels.js';

/*
 * A stat that mirrors an alert shows the alert's own series, filtered the way the alert filters it (minimum
 * traffic), and turns red at the alert's threshold from thresholds.yaml. A disabled alert leaves the stat neutral
 * and unfiltered: nothing fires, so nothing turns red.
 */

/** Red above (or below) `limit` while the alert is enabled. */
export function alertSteps(t: Thresholds, name: AlertName, direction: 'above' | 'below', limit: number): Steps {
  if (!t.alerts[name].enabled) return neutral;
  return direction === 'above' ? redAbove(limit) : redBelow(limit);
}

/**
 * `expr` only where `volume` reaches the alert's minimum (its min_rps and the like), as the alert judges it: matched
 * on `on` and the fleet label, like the alert, so one cluster's traffic never qualifies another's numbers.
 */
export function judged(
  t: Thresholds,
  name: AlertName,
  expr: string,
  on: string,
  volume: string,
  minimum: number,
): string {
  return t.alerts[name].enabled ? `${expr}\nand on (${FLEET_LABEL}, ${on}) ${volume} >= ${num(minimum)}` : expr;
}
