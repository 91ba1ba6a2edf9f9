import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, parseConfig } from '../../src/exporter/config/load.js';
import { maskConfig } from '../../src/exporter/config/mask.js';
import { CONFIG_CHECKS } from '../../src/exporter/config-checks.js';
import { problemsOf } from '../helpers/config-error.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));
const example = fileURLToPath(new URL('../../crm-exporter.example.yaml', import.meta.url));

describe('config loading', () => {
  it('accepts the shipped example and fills defaults', () => {
    const config = loadConfigFile(example, {}, CONFIG_CHECKS);
    expect(config.listen).toBe('127.0.0.1:9464');
    const crm = config.logs[0];
    expect(crm?.format).toBe('json');
    expect(crm?.fields?.duration).toBe('duration_ms');
    expect(crm?.max_line_bytes).toBe(65536);
    expect(config.postgres?.timeout).toBe(5000);
    expect(config.scrape.margin).toBe(500);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.logs[0])).toBe(true);
  });

  it('applies defaults to a minimal document', () => {
    const config = parseConfig({ logs: [{ name: 'a', path: '/x', format: 'nginx' }] });
    expect(config.listen).toBe('0.0.0.0:9464');
    expect(config.logs[0]).toMatchObject({ max_routes: 200, start_at: 'end', max_line_bytes: 65536, routes: [] });
    expect(config.logs[0]?.fields).toBeUndefined();
    expect(config.postgres).toBeUndefined();
  });

  it('lists every problem with its key path', () => {
    const problems = problemsOf(() => loadConfigFile(fixture('bad.yaml'), {}, CONFIG_CHECKS));
    const paths = problems.map((p) => p.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'listen',
        '(root)',
        'logs[0].format',
        'logs[1].max_routes',
        'logs[1].buckets',
        'logs[1].pattern',
        'logs[2].fields',
        'postgres.timeout',
        'redis.key_groups[0].name',
        'probe.url',
      ]),
    );
    expect(problems.join('\n')).toContain('surprise');
    // A secret in the offending file never reaches the message.
    expect(problems.join('\n')).not.toMatch(/s3cret|hunter2/);
  });

  it('reports duplicate source names and bad regex patterns', () => {
    const dup = problemsOf(() =>
      parseConfig({
        logs: [
          { name: 'a', path: '/1', format: 'nginx' },
          { name: 'a', path: '/2', format: 'nginx' },
        ],
      }),
    );
    expect(dup).toEqual(['logs[1].name: duplicate source name "a"']);
    const bad = problemsOf(() =>
      parseConfig({ logs: [{ name: 'a', path: '/1', format: 'regex', pattern: '(?<method>x' }] }, {}, CONFIG_CHECKS),
    );
    expect(bad[0]).toMatch(/^logs\[0\]\.pattern: invalid pattern/);
    const groups = problemsOf(() =>
      parseConfig(
        { logs: [{ name: 'a', path: '/1', format: 'regex', pattern: '(?<method>\\S+)' }] },
        {},
        CONFIG_CHECKS,
      ),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatch(/^logs\[0\]\.pattern: .*status/);
    const nginx = problemsOf(() =>
      parseConfig(
        { logs: [{ name: 'n', path: '/1', format: 'nginx', log_format: '$remote_addr [$time_local]' }] },
        {},
        CONFIG_CHECKS,
      ),
    );
    expect(nginx).toHaveLength(1);
    expect(nginx[0]).toMatch(/^logs\[0\]\.log_format: /);
  });

  it('names an unreadable file and invalid YAML', () => {
    expect(problemsOf(() => loadConfigFile('/nonexistent/x.yaml'))[0]).toMatch(/x\.yaml: cannot read \(ENOENT\)/);
    expect(problemsOf(() => parseConfig([1, 2]))[0]).toMatch(/^\(root\)/);
  });

  it('lets the environment override connection settings', () => {
    const config = parseConfig(
      { postgres: { url: 'postgres://file/db' } },
      {
        CRM_EXPORTER_POSTGRES_URL: 'postgres://env/db',
        CRM_EXPORTER_REDIS_URL: 'redis://env:6379',
        CRM_EXPORTER_LISTEN: ':9999',
      },
    );
    expect(config.postgres?.url).toBe('postgres://env/db');
    expect(config.redis?.url).toBe('redis://env:6379');
    expect(config.listen).toBe(':9999');
  });

  it('masks secrets when printing', () => {
    const config = parseConfig({
      postgres: { url: 'postgres://crm:s3cret@db:5432/crm?sslpassword=x' },
      redis: { url: 'redis://:hunter2@cache:6379' },
    });
    const text = JSON.stringify(maskConfig(config));
    expect(text).not.toMatch(/s3cret|hunter2|sslpassword=x/);
    expect(text).toContain('crm:****@db:5432');
  });
});

describe('config checks', () => {
  it('rejects a postgres url that is not a connection URL, without echoing it', () => {
    const problems = problemsOf(() => parseConfig({ postgres: { url: 'mysql://u:s3cret@h/db' } }, {}, CONFIG_CHECKS));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^postgres\.url: must be a postgres:\/\//);
    expect(problems[0]).not.toContain('s3cret');
  });
});

describe('duration bounds (each key named in the error)', () => {
  const base = {
    postgres: { url: 'postgres://db/crm' },
    redis: { url: 'redis://cache' },
    probe: { url: 'http://crm/health' },
  };
  const withValue = (path: string, value: unknown): Record<string, unknown> => {
    const doc = structuredClone(base) as Record<string, Record<string, unknown>>;
    const [section, key] = path.split('.') as [string, string | undefined];
    if (section === 'logs') doc.logs = [{ name: 'a', path: '/x', format: 'nginx', poll_interval: value }] as never;
    else if (key === undefined) (doc as Record<string, unknown>)[section] = value;
    else doc[section] = { ...doc[section], [key]: value };
    return doc;
  };

  it.each([
    ['positions_interval', 0, 'positions_interval: must be between 100ms and 1h (got 0ms)'],
    ['positions_interval', '1000h', 'positions_interval: must be between 100ms and 1h (got 1000h)'],
    ['logs.poll_interval', 0, 'logs[0].poll_interval: must be between 10ms and 1h (got 0ms)'],
    ['logs.poll_interval', '1000h', 'logs[0].poll_interval: must be between 10ms and 1h (got 1000h)'],
    ['postgres.timeout', 0, 'postgres.timeout: must be between 100ms and 5m (got 0ms)'],
    ['postgres.timeout', '2h', 'postgres.timeout: must be between 100ms and 5m (got 2h)'],
    [
      'postgres.database_size_interval',
      '10ms',
      'postgres.database_size_interval: must be between 1s and 24h, or 0 (every scrape) (got 10ms)',
    ],
    ['redis.timeout', 0, 'redis.timeout: must be between 100ms and 5m (got 0ms)'],
    ['probe.timeout', 0, 'probe.timeout: must be between 100ms and 5m (got 0ms)'],
    ['probe.timeout', '50ms', 'probe.timeout: must be between 100ms and 5m (got 50ms)'],
    ['scrape.default_timeout', 0, 'scrape.default_timeout: must be between 100ms and 10m (got 0ms)'],
    ['scrape.max_timeout', '1000h', 'scrape.max_timeout: must be between 100ms and 10m (got 1000h)'],
    ['scrape.margin', '2m', 'scrape.margin: must be between 0ms and 1m (got 2m)'],
  ])('%s: %j is refused', (path, value, message) => {
    expect(problemsOf(() => parseConfig(withValue(path, value)))).toEqual([message]);
  });

  it.each([
    ['positions_interval', '100ms'],
    ['logs.poll_interval', '1h'],
    ['postgres.timeout', '5m'],
    ['postgres.database_size_interval', 0],
    ['scrape.margin', 0],
  ])('%s: %j is accepted (a bound itself, or the documented 0)', (path, value) => {
    expect(() => parseConfig(withValue(path, value))).not.toThrow();
  });
});
