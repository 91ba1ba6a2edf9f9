import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, parseConfig } from '../../src/exporter/config/load.js';
import { CONFIG_CHECKS } from '../../src/exporter/config-checks.js';
import { problemsOf } from '../helpers/config-error.js';

const example = fileURLToPath(new URL('../../crm-exporter.example.yaml', import.meta.url));

const source = (over: Record<string, unknown>): Record<string, unknown> => ({
  logs: [{ name: 'a', path: '/x', format: 'nginx', ...over }],
});

describe('logs[].max_route_length (issue 11 A3)', () => {
  it('defaults to 128 characters, and the shipped example sets it', () => {
    expect(parseConfig(source({})).logs[0]?.max_route_length).toBe(128);
    expect(loadConfigFile(example, {}, CONFIG_CHECKS).logs[0]?.max_route_length).toBe(128);
  });

  it.each([16, 64, 4096])('accepts %d', (n) => {
    expect(parseConfig(source({ max_route_length: n })).logs[0]?.max_route_length).toBe(n);
  });

  it.each([0, 15, 4097, 1.5, '128'])('refuses %j, naming the key', (n) => {
    const problems = problemsOf(() => parseConfig(source({ max_route_length: n })));
    // 1.5 is both not an integer and below 16: each problem is said, each under the key
    expect(problems.length).toBeGreaterThanOrEqual(1);
    for (const problem of problems) expect(problem).toMatch(/^logs\[0\]\.max_route_length: /);
  });

  it('refuses a configured route template longer than the cap, naming it', () => {
    const problems = problemsOf(() =>
      parseConfig(source({ max_route_length: 16, routes: ['/api/:id', '/a/very/long/template/:id'] })),
    );
    expect(problems).toEqual(['logs[0].routes[1]: longer than max_route_length (16)']);
  });
});
