import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * docs/metrics.md read as data: its metric tables, `| metric | type | labels | meaning |`, one row a family. The
 * labels cell names each label in backticks; anything in parentheses is a comment (`reason` (5: `unauthorized`, ...)
 * lists the values); "path labels" says the family also carries a source's configured `path_labels`.
 */
export const METRICS_DOC = readFileSync(fileURLToPath(new URL('../../docs/metrics.md', import.meta.url)), 'utf8');

export interface DocRow {
  name: string;
  type: string;
  labels: string[];
  /** The labels cell says "path labels": a source with `path_labels` adds its named groups. */
  pathLabels: boolean;
  /** The `## ` heading of the section the row is in. */
  section: string;
}

export function metricsDocRows(doc: string = METRICS_DOC): DocRow[] {
  const rows: DocRow[] = [];
  let section = '';
  for (const line of doc.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const row = /^\| `(crm_[a-z0-9_]+)` \|([^|]*)\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const labels = [...row[3]!.replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    rows.push({ name: row[1]!, type: row[2]!.trim(), labels, pathLabels: /\bpath labels\b/.test(row[3]!), section });
  }
  return rows;
}

/** The metric names in the tables of one `## ` section, sorted. */
export function documentedIn(section: string): string[] {
  const names = metricsDocRows()
    .filter((r) => r.section === section)
    .map((r) => r.name);
  if (names.length === 0) throw new Error(`docs/metrics.md has no metric table under "## ${section}"`);
  return names.sort();
}

/** The family names (`# TYPE` lines) of an exposition, sorted. */
export function familiesOf(exposition: string): string[] {
  return [...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!).sort();
}
