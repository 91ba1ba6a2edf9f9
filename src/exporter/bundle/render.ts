import yaml from 'js-yaml';
import { dashboards, renderDashboard } from './dashboards/index.js';
import { ruleFiles } from './rules/index.js';
import type { Thresholds } from './thresholds-schema.js';

/** Relative path -> file content: everything `crm-exporter bundle` writes. Pure, so a test can diff it. */
export type BundleFiles = Map<string, string>;

export function generatedHeader(source: string, comment = '#'): string {
  return `${comment} Generated from ${source} by \`crm-exporter bundle\`. Do not edit: change ${source} and run \`npm run bundle\`.\n`;
}

export function renderRuleFile(groups: unknown, source: string): string {
  return `${generatedHeader(source)}${yaml.dump({ groups }, { lineWidth: -1, noRefs: true, quotingType: '"' })}`;
}

export function renderBundle(t: Thresholds, source = 'alerting/thresholds.yaml'): BundleFiles {
  const files: BundleFiles = new Map();
  for (const [name, groups] of Object.entries(ruleFiles(t)))
    files.set(`alerting/rules/${name}`, renderRuleFile(groups, source));
  for (const [uid, dashboard] of Object.entries(dashboards(t, source)))
    files.set(`dashboards/${uid}.json`, renderDashboard(dashboard));
  return files;
}
