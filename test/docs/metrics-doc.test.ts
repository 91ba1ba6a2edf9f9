import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * docs/metrics.md is the public list of metrics. Every family in the golden expositions (which together cover
 * every collector and log format) must be documented, and every documented crm_ metric must exist in one of them.
 */
const goldenDir = fileURLToPath(new URL('../golden/', import.meta.url));
const docs = readFileSync(fileURLToPath(new URL('../../docs/metrics.md', import.meta.url)), 'utf8');

function familiesIn(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) \S+$/gm)) names.add(match[1] as string);
  return names;
}

const golden = new Set<string>();
for (const file of readdirSync(goldenDir).filter((f) => f.endsWith('.prom'))) {
  for (const name of familiesIn(readFileSync(`${goldenDir}${file}`, 'utf8'))) golden.add(name);
}
const documented = new Set([...docs.matchAll(/`(crm_[a-z0-9_]+)`/g)].map((m) => m[1] as string));

describe('docs/metrics.md', () => {
  it('the golden expositions cover every subsystem', () => {
    for (const prefix of ['crm_http_', 'crm_log_', 'crm_pg_', 'crm_redis_', 'crm_probe_', 'crm_scrape_']) {
      expect(
        [...golden].some((n) => n.startsWith(prefix)),
        `no golden exposition has a ${prefix} metric`,
      ).toBe(true);
    }
  });

  it.each([...golden].filter((n) => n.startsWith('crm_')).sort())('documents %s', (name) => {
    expect(documented.has(name), `${name} is served but missing from docs/metrics.md`).toBe(true);
  });

  it('documents nothing that is not served', () => {
    const stale = [...documented].filter((name) => !golden.has(name));
    expect(stale, 'documented in docs/metrics.md but absent from every golden exposition').toEqual([]);
  });
});
