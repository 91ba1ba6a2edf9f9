import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import {
  GRAFANA_DASHBOARDS_FILE,
  PROMETHEUS_RULE_FILE,
  renderGrafanaDashboardConfigMaps,
  renderPrometheusRule,
} from './kubernetes.js';
import { renderBundle, type BundleFiles } from './render.js';
import type { Thresholds } from './thresholds-schema.js';
import { loadThresholdsFile } from './thresholds.js';

export const BUNDLE_HELP = `crm-exporter bundle [--thresholds FILE] [--format FORMAT] [--out DIR] [--check]

Renders the alerting and dashboard bundle from one thresholds file (default alerting/thresholds.yaml) under DIR
(default: the current directory). FORMAT is one of:
  files               DIR/alerting/rules/*.yml (Prometheus recording and alert rules) and DIR/dashboards/*.json
                      (Grafana dashboards); the default
  prometheusrule      DIR/${PROMETHEUS_RULE_FILE}: the same rule groups as one PrometheusRule object
                      (monitoring.coreos.com/v1) for the Prometheus Operator
  grafana-dashboards  DIR/${GRAFANA_DASHBOARDS_FILE}: the same dashboards as ConfigMaps labelled
                      grafana_dashboard: "1" for Grafana's dashboard sidecar
  --out -   (prometheusrule, grafana-dashboards) print the file to standard output instead
  --check   write nothing; exit 1 listing every file that differs from what would be generated
`;

const FORMATS = {
  files: (t: Thresholds, source: string): BundleFiles => renderBundle(t, source),
  prometheusrule: (t: Thresholds, source: string): BundleFiles =>
    new Map([[PROMETHEUS_RULE_FILE, renderPrometheusRule(t, source)]]),
  'grafana-dashboards': (t: Thresholds, source: string): BundleFiles =>
    new Map([[GRAFANA_DASHBOARDS_FILE, renderGrafanaDashboardConfigMaps(t, source)]]),
} as const;

const isFormat = (name: string): name is keyof typeof FORMATS => Object.hasOwn(FORMATS, name);

type Io = { out: (text: string) => void; err: (text: string) => void };

export function bundleCommand(argv: string[], io: Io): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        thresholds: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${BUNDLE_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(BUNDLE_HELP);
    return 0;
  }
  const format = values.format ?? 'files';
  if (!isFormat(format)) {
    io.err(`--format must be one of ${Object.keys(FORMATS).join(', ')}, got "${format}"\n\n${BUNDLE_HELP}`);
    return 2;
  }
  const toStdout = values.out === '-';
  if (toStdout && (format === 'files' || values.check)) {
    io.err(
      `--out - prints one file: it takes --format prometheusrule or grafana-dashboards, without --check\n\n${BUNDLE_HELP}`,
    );
    return 2;
  }
  const thresholdsFile = values.thresholds ?? 'alerting/thresholds.yaml';
  const outDir = toStdout ? '.' : (values.out ?? '.');
  let files;
  try {
    const source = relative(outDir, thresholdsFile) || thresholdsFile;
    files = FORMATS[format](loadThresholdsFile(thresholdsFile), source.startsWith('..') ? thresholdsFile : source);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${thresholdsFile}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (toStdout) {
    for (const content of files.values()) io.out(content);
    return 0;
  }
  if (values.check) {
    const stale = [...files]
      .filter(([path, content]) => readOrEmpty(join(outDir, path)) !== content)
      .map(([path]) => path);
    if (stale.length > 0) {
      io.err(`out of date (run \`npm run bundle\`):\n  ${stale.join('\n  ')}\n`);
      return 1;
    }
    io.out(`${files.size} generated files are up to date\n`);
    return 0;
  }
  for (const [path, content] of files) {
    const target = join(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    io.out(`wrote ${target}\n`);
  }
  return 0;
}

function readOrEmpty(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
