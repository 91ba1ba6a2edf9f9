/** A Prometheus rule file's pieces, in the field order Prometheus documents (and promtool prints). */
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<RecordingRule | AlertingRule>;
}

export function isAlert(rule: RecordingRule | AlertingRule): rule is AlertingRule {
  return 'alert' in rule;
}
