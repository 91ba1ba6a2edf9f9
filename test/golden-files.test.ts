import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { REPO } from './helpers/compose.js';

/*
 * Golden files cannot go unused or be written by accident: every test/golden/*.prom is compared by some test, every
 * golden a test names exists, snapshots are never written during a test run (vitest.config.ts `update: 'none'`), and
 * `npm run test:update-golden`, the one way to regenerate them, runs exactly the tests that compare them.
 */
const testFiles = (dir: string): string[] =>
  readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(`${dir}/${e.name}`) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [],
  );

/** Test files that call toMatchFileSnapshot, with the golden files (repository paths) they name. */
function goldenReaders(): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const file of testFiles('test')) {
    const text = readFileSync(join(REPO, file), 'utf8');
    if (!/\)\s*\.toMatchFileSnapshot\(/.test(text)) continue;
    const named = [...text.matchAll(/['"`]((?:\.\.?\/)+golden\/[^'"`$]+)['"`]/g)].map((m) =>
      posix.normalize(posix.join(posix.dirname(file), m[1]!)),
    );
    readers.set(file, named);
  }
  return readers;
}

const goldens = readdirSync(join(REPO, 'test/golden'))
  .filter((f) => f.endsWith('.prom'))
  .map((f) => `test/golden/${f}`)
  .sort();

describe('golden files', () => {
  it('the ten golden expositions exist', () => {
    expect(goldens).toEqual([
      'test/golden/core.prom',
      'test/golden/cri.prom',
      'test/golden/docker.prom',
      'test/golden/json.prom',
      'test/golden/nginx.prom',
      'test/golden/postgres.prom',
      'test/golden/probe.prom',
      'test/golden/redis.prom',
      'test/golden/regex.prom',
      'test/golden/web.prom',
    ]);
  });

  it('every golden file is compared by a test, and every golden a test names exists', () => {
    const readers = goldenReaders();
    const named = new Set([...readers.values()].flat());
    expect(readers.size).toBeGreaterThan(0);
    for (const [file, names] of readers)
      expect(names, `${file} calls toMatchFileSnapshot but names no golden`).not.toEqual([]);
    expect(
      goldens.filter((g) => !named.has(g)),
      'golden files no test compares',
    ).toEqual([]);
    expect([...named].filter((g) => !goldens.includes(g)).sort(), 'golden files named by a test but missing').toEqual(
      [],
    );
  });

  it('tests never write a snapshot: vitest.config.ts sets update to none', async () => {
    const { default: config } = (await import('../vitest.config.js')) as { default: { test?: { update?: unknown } } };
    expect(config.test?.update).toBe('none');
  });

  it('npm run test:update-golden runs exactly the tests that compare golden files, with -u after them', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const script = pkg.scripts['test:update-golden'] ?? '';
    // `vitest run -u FILE` would take FILE as -u's value and run the whole suite: the flag goes last.
    expect(script).toMatch(/^vitest run (\S+\.test\.ts )+-u$/);
    const listed = script.split(' ').filter((w) => w.endsWith('.test.ts'));
    expect(listed.sort()).toEqual([...goldenReaders().keys()].sort());
  });
});
