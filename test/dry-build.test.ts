import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { main } from '../src/exporter/cli.js';
import { CONFIG_CHECKS } from '../src/exporter/config-checks.js';
import { loadConfigFile } from '../src/exporter/config/load.js';
import { startExporter } from '../src/exporter/main.js';

/*
 * check-config and start-up accept exactly the same configs: every config that check-config accepts starts (the
 * exporter is built, its log sources opened, its server listening), and what check-config refuses is refused at
 * start-up with the same message naming the key.
 */

let dir: string;
let written = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crm-dry-build-'));
  mkdirSync(join(dir, 'a-directory'));
  writeFileSync(join(dir, 'access.log'), '');
  writeFileSync(join(dir, 'redis-password'), 'secret\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) }, {});
  return { code, out, err };
}

function file(document: unknown): string {
  const path = join(dir, `config-${written++}.yaml`);
  writeFileSync(path, yaml.dump(document));
  return path;
}

const base = (): Record<string, unknown> => ({ listen: '127.0.0.1:0', positions_file: join(dir, 'positions.json') });
const jsonLog = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'crm',
  path: '{dir}/access.log',
  format: 'json',
  ...extra,
});

/** check-config's verdict, and start-up's: the same exit code and message when refused; a running exporter when not. */
async function verdicts(path: string): Promise<{ accepted: boolean; problems: string }> {
  const check = await cli(['check-config', path]);
  if (check.code === 0) {
    const exporter = await startExporter(loadConfigFile(path, {}, CONFIG_CHECKS), { log: () => undefined });
    expect((await fetch(`${exporter.url}/healthz`)).status).toBe(200);
    await exporter.close();
    return { accepted: true, problems: '' };
  }
  expect(check.code).toBe(1);
  const run = await cli(['--config', path]);
  expect({ code: run.code, err: run.err }).toEqual({ code: 1, err: check.err });
  return { accepted: false, problems: check.err };
}

describe('check-config accepts exactly what starts', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'duplicate JSON field keys',
      { logs: [jsonLog({ fields: { method: 'm', path: 'm' } })] },
      'logs[0].fields: json fields "method" and "path" both use the key "m"',
    ],
    ['poll_interval 0', { logs: [jsonLog({ poll_interval: 0 })] }, 'logs[0].poll_interval: must be between'],
    ['port 99999', { listen: '127.0.0.1:99999' }, 'listen: port must be 0-65535'],
    [
      'scrape.margin above the timeout',
      { scrape: { default_timeout: '1s', margin: '5s' } },
      'scrape.margin: must be less than the scrape timeouts (1s)',
    ],
    [
      'default_timeout above max_timeout',
      { scrape: { default_timeout: '5m', max_timeout: '1m' } },
      'scrape.default_timeout: must not exceed scrape.max_timeout (1m)',
    ],
    [
      'duplicate key-group names',
      {
        redis: {
          url: 'redis://127.0.0.1:1',
          key_groups: [
            { name: 'a', pattern: 'x*' },
            { name: 'a', pattern: 'y*' },
          ],
        },
      },
      'redis.key_groups[1].name: duplicate key group name "a"',
    ],
    ['a blank log path', { logs: [jsonLog({ path: '   ' })] }, 'logs[0].path: must not be blank'],
    [
      'positions_file naming a directory',
      { positions_file: '{dir}/a-directory' },
      'positions_file: exists and is not a regular file',
    ],
    [
      'positions_file ending with a slash',
      { positions_file: '{dir}/new-directory/' },
      'positions_file: must name a file, not a directory',
    ],
    [
      'an unreadable redis.password_file',
      { redis: { url: 'redis://127.0.0.1:1', password_file: '{dir}/missing' } },
      'redis.password_file: cannot read',
    ],
  ])('%s: refused by check-config and start-up alike, naming the key', async (_name, document, problem) => {
    const filled = JSON.parse(JSON.stringify({ ...base(), ...document }).replaceAll('{dir}', dir)) as unknown;
    const { accepted, problems } = await verdicts(file(filled));
    expect(accepted).toBe(false);
    expect(problems).toContain(`  - ${problem}`);
  });

  it('property: every config check-config accepts also starts', async () => {
    const seen = { accepted: 0, refused: 0 };
    // Mostly valid values, each with a rare bad one, so that both verdicts come up.
    const either = <T>(good: T[], bad: T[]): fc.Arbitrary<T> =>
      fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 6 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
    const timeout = either<unknown>(['1s', '2s', 3], [0, '1ms', '1000h', 'soon']);
    const at = (name: string): string => join(dir, name);
    const document = fc.record(
      {
        listen: either(['127.0.0.1:0'], ['127.0.0.1:99999', '127.0.0.1:65536']),
        positions_file: either(
          [at('positions.json'), at('sub/dir/positions.json')],
          [at('a-directory'), at('new/'), '  '],
        ),
        positions_interval: either<unknown>(['100ms', '5s', 60], [0, '1000h']),
        scrape: fc.record(
          {
            default_timeout: either(['10s', '20s'], ['5m']),
            max_timeout: either(['30s', '1m'], ['50ms']),
            margin: either(['0', '500ms'], ['2m']),
          },
          { requiredKeys: [] },
        ),
        logs: fc.uniqueArray(
          fc.record(
            {
              name: fc.constantFrom('crm', 'nginx', 'app'),
              path: either([at('access.log'), at('not-yet.log')], [' ']),
              format: fc.constant('json'),
              poll_interval: either<unknown>(['10ms', '1s', 2], [0, '1000h']),
              fields: either<Record<string, string>>(
                [{}, { method: 'verb' }, { method: 'verb', path: 'uri' }],
                [{ method: 'x', path: 'x' }, { status: 'path' }],
              ),
            },
            { requiredKeys: ['name', 'path', 'format'] },
          ),
          { maxLength: 2, selector: (source) => source.name },
        ),
        redis: fc.record(
          {
            url: either(
              ['redis://127.0.0.1:1', 'redis://:pa%2Fss@127.0.0.1:1/2'],
              ['redis://:pa/ss@127.0.0.1:1', 'redis://127.0.0.1:1/x'],
            ),
            timeout,
            password_file: either([at('redis-password')], [at('missing')]),
            key_groups: either(
              [[], [{ name: 'a', pattern: 'x*' }]],
              [
                [
                  { name: 'a', pattern: 'x*' },
                  { name: 'a', pattern: 'y*' },
                ],
              ],
            ),
          },
          { requiredKeys: ['url'] },
        ),
        postgres: fc.record(
          {
            url: either(
              ['postgres://127.0.0.1:1/db', 'socket:/tmp?db=x'],
              ['postgres://127.0.0.1:1/db?sslcert=/nonexistent', '/tmp?password=x'],
            ),
            timeout,
            database_size_interval: either<unknown>([0, '1m'], ['10ms']),
          },
          { requiredKeys: ['url'] },
        ),
        probe: fc.record(
          { url: either(['http://127.0.0.1:1/health'], ['ftp://x', 'http://u:1/b@h/x']), timeout },
          { requiredKeys: ['url'] },
        ),
      },
      { requiredKeys: ['listen', 'positions_file'] },
    );
    await fc.assert(
      fc.asyncProperty(document, async (doc) => {
        const { accepted } = await verdicts(file(doc));
        seen[accepted ? 'accepted' : 'refused'] += 1;
      }),
      { numRuns: 150 },
    );
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  }, 120_000);
});
