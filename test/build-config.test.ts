import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { REPO } from './helpers/compose.js';

/*
 * tsconfig.build.json compiles a few test helpers because the benchmarks share them. The benchmarks run them with
 * plain node, outside vitest: these helpers, and every helper they import, must not import vitest.
 */
const build = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as {
  include: string[];
};

function importsOf(file: string): string[] {
  return [...readFileSync(join(REPO, file), 'utf8').matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('tsconfig.build.json', () => {
  it('compiles test helpers that import no vitest, directly or through another helper', () => {
    const helpers = build.include.filter((p) => p.startsWith('test/'));
    expect(helpers.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    const queue = [...helpers];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const imports = importsOf(file);
      expect(imports, `${file} imports vitest`).not.toContain('vitest');
      for (const target of imports.filter((i) => i.startsWith('./')))
        queue.push(posix.join(posix.dirname(file), target.replace(/\.js$/, '.ts')));
    }
  });
});
