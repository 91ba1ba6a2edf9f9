import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Golden files (test/golden/*.prom, `toMatchFileSnapshot`) and snapshots are compared, never written, whether or
    // not CI is set: a missing or changed golden fails the test. Regenerate them on purpose with
    // `npm run test:update-golden` (`vitest run -u` on the golden tests; the command line's -u overrides this).
    update: 'none',
  },
});
