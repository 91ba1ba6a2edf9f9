import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { REPO } from './helpers/compose.js';

/*
 * What `npm pack` would publish, from package.json's `files` list: a tarball that starts (the bin launchers and every
 * compiled module they reach) and carries no tests, benchmarks or TypeScript sources. --ignore-scripts: the listing
 * comes from the dist/ that `npm test` has just built, without rebuilding it under the tests that run it.
 */
const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
const packed = (): Set<string> => {
  if (pack.status !== 0) throw new Error(`npm pack --dry-run failed: ${pack.stderr}`);
  const [result] = JSON.parse(pack.stdout) as { files: { path: string }[] }[];
  return new Set(result!.files.map((f) => f.path));
};
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };

const tsFiles = (dir: string): string[] =>
  readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
const relativeImports = (file: string): string[] =>
  [...readFileSync(join(REPO, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
    posix.normalize(posix.join(posix.dirname(file), m[1]!)),
  );

describe('the packed tarball', () => {
  it('holds every bin launcher and every module a launcher imports, relative imports all inside the tarball', () => {
    const files = packed();
    const bins = Object.values(pkg.bin).map((b) => posix.normalize(b));
    expect(bins.length).toBeGreaterThan(0);
    for (const bin of bins) expect(files, bin).toContain(bin);
    const modules = [...files].filter((f) => f.endsWith('.js'));
    for (const file of modules) {
      for (const target of relativeImports(file)) expect(files, `${file} imports ${target}`).toContain(target);
    }
    // Each launcher reaches a compiled entry point (and not a stale one: the import check above covers that).
    for (const bin of bins) expect(relativeImports(bin).some((t) => t.startsWith('dist/src/'))).toBe(true);
  });

  it('holds the compiled module of every source file of the four programs', () => {
    const files = packed();
    const sources = tsFiles('src');
    expect(sources.length).toBeGreaterThan(50);
    for (const source of sources)
      expect(files, `${source} (run npm run build first)`).toContain(`dist/${source.replace(/\.ts$/, '.js')}`);
  });

  it('holds the bundle, the example config and the docs', () => {
    const files = packed();
    for (const path of [
      'README.md',
      'package.json',
      'crm-exporter.example.yaml',
      'alerting/thresholds.yaml',
      'alerting/alertmanager.yml',
      'alerting/runbook.md',
      'docs/metrics.md',
    ]) {
      expect(files, path).toContain(path);
    }
    expect([...files].filter((f) => f.startsWith('alerting/rules/') && f.endsWith('.yml')).length).toBeGreaterThan(0);
    expect([...files].filter((f) => /^dashboards\/[^/]+\.json$/.test(f)).length).toBeGreaterThan(0);
  });

  it('holds no tests, benchmarks, TypeScript sources, source maps or build configuration', () => {
    const unwanted = [...packed()].filter(
      (f) =>
        /^(test|bench|src|scripts|deploy|\.ci|dist\/bench)\//.test(f) ||
        /\.(ts|map)$/.test(f) ||
        /^(tsconfig|vitest|eslint)/.test(f),
    );
    expect(unwanted).toEqual([]);
  });
});
