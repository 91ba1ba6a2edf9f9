import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METRICS_DOC, metricsDocRows, type DocRow } from '../helpers/metrics-doc.js';

/*
 * docs/metrics.md is the public list of metrics. Every family in the golden expositions (which together cover
 * every collector and log format, and which the golden tests compare byte for byte with live registries) must be
 * documented in a table row `| name | type | labels | meaning |` whose type is the exposition's TYPE and whose
 * labels are the label names its samples carry (`le` of histogram buckets aside: Prometheus adds it to every
 * histogram; a summary's `quantile` is listed). Every documented crm_ metric must exist in one of them.
 */
const goldenDir = fileURLToPath(new URL('../golden/', import.meta.url));

interface Family {
  type: string;
  labels: Set<string>;
  samples: number;
}

/** The families of an exposition with their TYPE and the label names of their samples. */
function addFamilies(exposition: string, families: Map<string, Family>): void {
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    if (!families.has(name!)) families.set(name!, { type: type!, labels: new Set(), samples: 0 });
  for (const [, name, labels] of exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/gm)) {
    const family = families.get(name!) ?? families.get(name!.replace(/_(bucket|sum|count)$/, ''));
    if (!family) throw new Error(`sample ${name} has no # TYPE line`);
    family.samples++;
    for (const [, label] of (labels ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g))
      if (!(family.type === 'histogram' && label === 'le')) family.labels.add(label!);
  }
}

const golden = new Map<string, Family>();
for (const file of readdirSync(goldenDir).filter((f) => f.endsWith('.prom')))
  addFamilies(readFileSync(`${goldenDir}${file}`, 'utf8'), golden);

const rows = new Map<string, DocRow>();
for (const row of metricsDocRows()) {
  if (rows.has(row.name)) throw new Error(`${row.name} has two rows in docs/metrics.md`);
  rows.set(row.name, row);
}
/*
 * The named groups of the `path_labels` of the container-log goldens' CRI source (test/logs/glob-golden.test.ts):
 * configured labels, documented as "path labels" rather than by name.
 */
const PATH_LABELS = ['namespace', 'pod'];
const pathLabelled = new Set(
  [...golden].filter(([, f]) => PATH_LABELS.some((l) => f.labels.has(l))).map(([name]) => name),
);
const mentioned = new Set([...METRICS_DOC.matchAll(/`(crm_[a-z0-9_]+)`/g)].map((m) => m[1]!));
const served = [...golden.keys()].filter((n) => n.startsWith('crm_')).sort();

describe('docs/metrics.md', () => {
  it('the golden expositions cover every subsystem', () => {
    for (const prefix of ['crm_http_', 'crm_log_', 'crm_pg_', 'crm_redis_', 'crm_probe_', 'crm_scrape_']) {
      expect(
        served.some((n) => n.startsWith(prefix)),
        `no golden exposition has a ${prefix} metric`,
      ).toBe(true);
    }
  });

  it('every served family has samples in a golden exposition (so its labels are known)', () => {
    expect(served.filter((n) => golden.get(n)!.samples === 0)).toEqual([]);
  });

  it('the container-log goldens carry the path labels this test sets aside', () => {
    const cri = readFileSync(`${goldenDir}cri.prom`, 'utf8');
    for (const label of PATH_LABELS) expect(cri, label).toMatch(new RegExp(`[{,]${label}="`));
  });

  it.each(served)('documents %s with its type and labels', (name) => {
    const row = rows.get(name);
    expect(row, `${name} is served but has no row in docs/metrics.md`).toBeDefined();
    const family = golden.get(name)!;
    expect(row!.type, `${name}: type in docs/metrics.md`).toBe(family.type);
    const fixed = [...family.labels].filter((l) => !PATH_LABELS.includes(l));
    expect([...row!.labels].sort(), `${name}: labels in docs/metrics.md`).toEqual(fixed.sort());
    // A row that does not say "path labels" is never served with them (the next test: a row that does, is).
    if (!row!.pathLabels)
      expect(
        [...family.labels].filter((l) => PATH_LABELS.includes(l)),
        `${name}: path labels`,
      ).toEqual([]);
  });

  it('every family served with path labels says so in docs/metrics.md', () => {
    expect([...pathLabelled].filter((n) => !rows.get(n)?.pathLabels)).toEqual([]);
    expect(pathLabelled.size).toBeGreaterThan(0);
  });

  it('documents nothing that is not served', () => {
    const stale = [...mentioned].filter((name) => !golden.has(name));
    expect(stale, 'documented in docs/metrics.md but absent from every golden exposition').toEqual([]);
  });
});
