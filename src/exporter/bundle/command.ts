import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { renderBundle } from './render.js';
import { loadThresholdsFile } from './thresholds.js';

export const BUNDLE_HELP = `crm-exporter bundle [--thresholds FILE] [--out DIR] [--check]

Renders the alerting and dashboard bundle from one thresholds file (default alerting/thresholds.yaml):
DIR/alerting/rules/*.yml (Prometheus recording and alert rules) and DIR/dashboards/*.json (Grafana dashboards)
under DIR (default: the current directory).
  --check   write nothing; exit 1 listing every file that differs from what would be generated
`;

type Io = { out: (text: string) => void; err: (text: string) => void };

export function bundleCommand(argv: string[], io: Io): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { thresholds: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${BUNDLE_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(BUNDLE_HELP);
    return 0;
  }
  const thresholdsFile = values.thresholds ?? 'alerting/thresholds.yaml';
  const outDir = values.out ?? '.';
  let files;
  try {
    const source = relative(outDir, thresholdsFile) || thresholdsFile;
    files = renderBundle(loadThresholdsFile(thresholdsFile), source.startsWith('..') ? thresholdsFile : source);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${thresholdsFile}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (values.check) {
    const stale = [...files].filter(([path, content]) => readOrEmpty(join(outDir, path)) !== content).map(([path]) => path);
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
