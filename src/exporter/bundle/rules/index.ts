import type { Thresholds } from '../thresholds-schema.js';
import { baselineAlertGroup, baselineRecordingGroup } from './baseline.js';
import { postgresAlertGroups, redisAlertGroup } from './database-alerts.js';
import { databaseRecordingGroup, serviceRecordingGroup } from './recording.js';
import { serviceAlertGroup } from './service-alerts.js';
import { sloAlertGroup, sloRecordingGroups } from './slo.js';
import type { RuleGroup } from './types.js';

/** Every rule file the bundle ships, by file name, in the order Prometheus should load them. */
export function ruleFiles(t: Thresholds): Record<string, RuleGroup[]> {
  const present = (groups: Array<RuleGroup | undefined>): RuleGroup[] =>
    groups.filter((g): g is RuleGroup => g !== undefined && g.rules.length > 0);
  return {
    'crm-recording.rules.yml': present([
      serviceRecordingGroup(t),
      databaseRecordingGroup(t),
      ...sloRecordingGroups(t),
      baselineRecordingGroup(t),
    ]),
    'crm-alerts.rules.yml': present([
      serviceAlertGroup(t),
      sloAlertGroup(t),
      baselineAlertGroup(t),
      ...postgresAlertGroups(t),
      redisAlertGroup(t),
    ]),
  };
}
