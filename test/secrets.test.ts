import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { main } from '../src/exporter/cli.js';
import { CONFIG_CHECKS } from '../src/exporter/config-checks.js';
import { loadConfigFile } from '../src/exporter/config/load.js';
import { startExporter } from '../src/exporter/main.js';
import { startPrivateInstance, type PrivateInstance } from './helpers/postgres.js';
import { PrivateRedis } from './helpers/redis-server.js';
import { leaksIn, secretArbitrary, secretUrlsByKind } from './helpers/secrets.js';

/*
 * A password given in any URL the exporter takes (redis.url, postgres.url in every shape, probe.url's token= /
 * apikey= / userinfo), percent-encoded or not, never appears in what the exporter prints: check-config's output,
 * a start-up error, a collector's log line, a failing probe's log line, /metrics. The servers are real and refuse
 * the password: a private redis-server with requirepass, a private PostgreSQL with scram-sha-256, and an HTTP
 * target answering 503.
 */

let dir: string;
let redis: PrivateRedis;
let postgres: PrivateInstance;
let target: Server;
let ports: { redis: number; postgres: number; probe: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-secrets-'));
  redis = await PrivateRedis.start(['--requirepass', 'the-right-one']);
  postgres = await startPrivateInstance({ password: 'the-right-one' });
  target = createServer((_req, res) => res.writeHead(503).end('down'));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  ports = { redis: redis.port, postgres: postgres.port, probe: (target.address() as AddressInfo).port };
}, 60_000);

afterAll(async () => {
  target?.closeAllConnections();
  await new Promise((resolve) => target?.close(resolve));
  await redis?.stop();
  await postgres?.destroy();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function cli(args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await main(args, { out: (t) => (text += t), err: (t) => (text += t) }, {});
  return { code, text };
}

let written = 0;
function configFile(urls: { redis: string; postgres: string; probe: string }): string {
  const file = join(dir, `config-${written++}.yaml`);
  const document = {
    listen: '127.0.0.1:0',
    positions_file: join(dir, 'positions.json'),
    postgres: { url: urls.postgres, timeout: '2s', databases: ['postgres'] },
    redis: { url: urls.redis, timeout: '1s' },
    probe: { url: urls.probe, timeout: '1s' },
  };
  writeFileSync(file, yaml.dump(document));
  return file;
}

/** Everything the exporter prints for one config: check-config, then start-up (error or one scrape's logs and /metrics). */
async function outputs(file: string): Promise<{ started: boolean; texts: string[] }> {
  const check = await cli(['check-config', file]);
  const texts = [check.text];
  if (check.code !== 0) {
    const run = await cli(['--config', file]);
    expect(run.code).toBe(1);
    return { started: false, texts: [...texts, run.text] };
  }
  const logs: string[] = [];
  const exporter = await startExporter(loadConfigFile(file, {}, CONFIG_CHECKS), { log: (line) => logs.push(line) });
  try {
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toContain('crm_probe_success 0');
    texts.push(metrics);
  } finally {
    await exporter.close();
  }
  expect(logs.join('\n')).toMatch(
    /probe .* failed: (HTTP 503|Request cannot be constructed from a URL that includes credentials)/,
  );
  return { started: true, texts: [...texts, ...logs] };
}

describe('secrets given in URLs', () => {
  it.each<[string, Partial<Record<'redis' | 'postgres' | 'probe', string>>, string]>([
    [
      'a Redis password with / (typical base64)',
      { redis: 'redis://:Zm9v/YmFy+cXV4==@127.0.0.1:{redis}/0' },
      'Zm9v/YmFy+cXV4==',
    ],
    ['a Redis password with @', { redis: 'redis://app:p@ssw0rd-x@127.0.0.1:{redis}' }, 'p@ssw0rd-x'],
    ['a socket directory with ?password=', { postgres: '/var/run/postgresql?password=s0cket-Secret' }, 's0cket-Secret'],
    [
      'a socket: URL with &password=',
      { postgres: 'socket:/tmp/crm-no-such-dir?db=postgres&password=s0cket-Secret2' },
      's0cket-Secret2',
    ],
    ['a probe token=', { probe: 'http://127.0.0.1:{probe}/health?token=pr0be-Token' }, 'pr0be-Token'],
    [
      'a probe apikey= before another parameter',
      { probe: 'http://127.0.0.1:{probe}/health?apikey=pr0be-Key&v=1' },
      'pr0be-Key',
    ],
    ['probe credentials', { probe: 'http://probe:pr0be-Pass@127.0.0.1:{probe}/health' }, 'pr0be-Pass'],
  ])('%s never appears in any output', async (_name, given, secret) => {
    const fill = (url: string): string =>
      url.replace(/\{(\w+)\}/g, (_m, key: keyof typeof ports) => String(ports[key]));
    const urls = {
      redis: fill(given.redis ?? 'redis://127.0.0.1:{redis}'),
      postgres: fill(given.postgres ?? 'postgres://postgres@127.0.0.1:{postgres}/postgres'),
      probe: fill(given.probe ?? 'http://127.0.0.1:{probe}/health'),
    };
    const { texts } = await outputs(configFile(urls));
    for (const text of texts) expect(leaksIn(text, secret), text).toEqual([]);
  });

  it('rejects at config time, naming the key and the problem without any part of the URL', async () => {
    const file = configFile({
      redis: `redis://:Zm9v/YmFy@127.0.0.1:${ports.redis}/0`,
      postgres: '/var/run/postgresql?password=s0cket',
      probe: `http://probe:1/b@127.0.0.1:${ports.probe}/health`,
    });
    const check = await cli(['check-config', file]);
    expect(check.code).toBe(1);
    const problems = check.text.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems.map((line) => line.slice(4).split(':')[0])).toEqual(['postgres.url', 'redis.url', 'probe.url']);
    expect(check.text).not.toMatch(/Zm9v|YmFy|s0cket|127\.0\.0\.1|1\/b/);
  });

  it('property: a random password, percent-encoded or not, in any URL shape, never appears in any output', async () => {
    const seen = { started: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        secretArbitrary,
        fc.boolean(),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        async (secret, encoded, r, p, q) => {
          const shapes = secretUrlsByKind(secret, encoded, ports);
          const pick = (list: string[], i: number): string => list[i % list.length] as string;
          const file = configFile({
            redis: pick(shapes.redis, r),
            postgres: pick(shapes.postgres, p),
            probe: pick(shapes.probe, q),
          });
          const { started, texts } = await outputs(file);
          seen[started ? 'started' : 'refused'] += 1;
          for (const text of texts) expect(leaksIn(text, secret), text).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
    // Both paths were exercised: configs that start and scrape, and configs refused at start-up.
    expect(seen.started).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  }, 120_000);
});
