import type { AlertName, Thresholds } from '../thresholds-schema.js';
import type { AlertingRule } from './types.js';

/** The runbook anchor of an alert: its section heading `## CrmErrorRatioHigh` as GitHub renders it. */
export const runbookAnchor = (name: string): string => name.toLowerCase();

interface AlertText {
  expr: string;
  /** A plain sentence, no template: it is the same for every instance of the alert. */
  summary: string;
  /** Templated with the current value and the labels that locate the problem. */
  description: string;
  labels?: Record<string, string>;
}

/** Builds one alert from its thresholds entry (severity, for, enabled); undefined when switched off. */
export function buildAlert(t: Thresholds, name: AlertName, text: AlertText): AlertingRule | undefined {
  const settings = t.alerts[name];
  if (!settings.enabled) return undefined;
  return alertRule(t, name, settings.severity, settings.for, text);
}

export function alertRule(
  t: Thresholds,
  name: string,
  severity: string,
  forDuration: string,
  text: AlertText,
): AlertingRule {
  return {
    alert: name,
    expr: text.expr,
    ...(forDuration === '0s' ? {} : { for: forDuration }),
    labels: { severity, ...text.labels },
    annotations: {
      summary: text.summary,
      description: text.description,
      runbook_url: `${t.runbook_url}#${runbookAnchor(name)}`,
    },
  };
}

export function defined<T>(items: Array<T | undefined>): T[] {
  return items.filter((item): item is T => item !== undefined);
}
