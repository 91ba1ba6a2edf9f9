import { describe, expect, it } from 'vitest';
import { substituteVariables } from '../../src/exporter/bundle/dashboards/queries.js';
import { lintExpr, parseSelectors } from '../helpers/promql-lint.js';

/** The linter checks must be able to fail: each rule against a query that breaks it. */
const COUNTERS = new Set(['crm_http_requests_total']);
const C = 'cluster=~"$cluster"';
const JI = `${C}, job=~"$job", instance=~"$instance"`;

describe('dashboard PromQL linter', () => {
  it.each([
    ['a clean query', `sum by (route) (rate(crm_http_requests_total{${JI}}[$__rate_interval]))`, []],
    ['a recorded series by job needs no instance', `job_log:crm_http_requests:rate5m{${C}, job=~"$job"}`, []],
    [
      'no cluster matcher',
      'crm_log_lag_bytes{job=~"$job", instance=~"$instance"}',
      ['crm_log_lag_bytes: no cluster=~"$cluster" matcher'],
    ],
    [
      'a fixed rate window',
      `rate(crm_http_requests_total{${JI}}[5m])`,
      ['crm_http_requests_total: rate over [5m] instead of [$__rate_interval]'],
    ],
    [
      'a counter read raw',
      `crm_http_requests_total{${JI}}`,
      ['crm_http_requests_total: a counter outside rate/irate/increase'],
    ],
    [
      'a counter in another range function',
      `max_over_time(crm_http_requests_total{${JI}}[$__rate_interval])`,
      ['crm_http_requests_total: a counter outside rate/irate/increase'],
    ],
    ['no job matcher', `crm_log_lag_bytes{${C}, instance=~"$instance"}`, ['crm_log_lag_bytes: no job=~"$job" matcher']],
    [
      'a job matcher that is not the variable',
      `crm_log_lag_bytes{${C}, job="crm-exporter", instance=~"$instance"}`,
      ['crm_log_lag_bytes: no job=~"$job" matcher'],
    ],
    [
      'no instance on a raw series',
      `crm_log_lag_bytes{${C}, job=~"$job"}`,
      ['crm_log_lag_bytes: no instance=~"$instance" matcher'],
    ],
    [
      'no instance on a recorded series that has it',
      `instance:crm_redis_memory_used:ratio{${C}, job=~"$job"}`,
      ['instance:crm_redis_memory_used:ratio: no instance=~"$instance" matcher'],
    ],
  ])('%s', (_name, expr, problems) => {
    expect(lintExpr(expr, COUNTERS)).toEqual(problems);
  });

  it('rejects what PromQL cannot parse', () => {
    expect(() => parseSelectors(`sum(rate(crm_http_requests_total{${JI}}[$__rate_interval])`)).toThrow(/syntax error/);
  });

  it('finds selectors inside label_replace, offsets and binary operations', () => {
    const found = parseSelectors('label_replace(a{x="1"} offset 1w, "o", "1w", "", "") / on (job) group_left () b');
    expect(found.map((s) => s.name)).toEqual(['a', 'b']);
  });
});

describe('substituteVariables', () => {
  it('replaces $name and ${name} with All values and the rate window', () => {
    expect(
      substituteVariables('rate(x{cluster=~"$cluster", job=~"$job", instance=~"${instance}"}[$__rate_interval])'),
    ).toBe('rate(x{cluster=~".*", job=~".+", instance=~".+"}[1m])');
  });

  it('takes overrides, and refuses a variable it has no value for', () => {
    expect(substituteVariables('x{route="$route"}', { route: '/a' })).toBe('x{route="/a"}');
    expect(() => substituteVariables('x{db="$database"}')).toThrow(/\$database/);
  });
});
