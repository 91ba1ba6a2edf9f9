import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyPackage } from '../../src/exporter/lazy-package.js';

/*
 * Issue 13, footprint: a running exporter loads only the parts its config uses. Checked on the built program (dist/,
 * `npm run build` first) in a fresh process, as bin/crm-exporter.js loads it: check the config, start the exporter,
 * then list which of the heavy packages Node.js has loaded.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'crm-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// express: the CRM service's framework; the exporter answers with node:http alone (server/app.ts), ~5 MiB less RSS.
const HEAVY = ['pg', 'pg-connection-string', 'ioredis', '@grafana/grafana-foundation-sdk', 'express'];
// OpenSSL and zlib start with these built-ins: only TLS, Basic auth, an https:// probe or a driver may load them.
// Counted beyond what node:http loads by itself on the Node.js running the test: on 20 nothing of them, on 24 crypto,
// tls and zlib (its own start-up), which no exporter code can avoid there.
const BUILTINS = ['crypto', 'tls', 'https', 'zlib'];

const SCRIPT = `
import { createRequire } from 'node:module';
await import('node:http');
const withHttp = new Set(process.moduleLoadList);
const dist = ${JSON.stringify(join(root, 'dist/src/exporter/'))};
const { loadConfigFile } = await import(dist + 'config/load.js');
const { CONFIG_CHECKS } = await import(dist + 'config-checks.js');
const { dryBuildProblems } = await import(dist + 'dry-build.js');
const { startExporter } = await import(dist + 'main.js');
await import(dist + 'cli.js');
const config = loadConfigFile(process.argv[1], {}, CONFIG_CHECKS);
const problems = await dryBuildProblems(config);
const exporter = await startExporter(config, { log: () => undefined });
await exporter.close();
const loaded = Object.keys(createRequire(import.meta.url).cache);
const heavy = ${JSON.stringify(HEAVY)}.filter((name) => loaded.some((file) => file.includes('/node_modules/' + name + '/')));
const builtins = ${JSON.stringify(BUILTINS)}.filter((name) => process.moduleLoadList.includes('NativeModule ' + name) && !withHttp.has('NativeModule ' + name));
console.log(JSON.stringify({ problems, heavy, builtins }));
`;

interface Loaded {
  problems: string[];
  heavy: string[];
  builtins: string[];
}

async function loadedBy(config: object): Promise<Loaded> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({ listen: '127.0.0.1:0', positions_file: join(dir, 'positions.json'), ...config }),
  );
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT, file], {
    cwd: root,
  });
  return JSON.parse(stdout) as Loaded;
}

const log = () => {
  const path = join(dir, 'access.log');
  writeFileSync(path, '');
  return { name: 'crm', path, format: 'json' };
};

describe('what a running exporter loads', () => {
  it('a logs-only config loads neither the drivers, the bundle generator nor OpenSSL', async () => {
    expect(await loadedBy({ logs: [log()] })).toEqual({ problems: [], heavy: [], builtins: [] });
  });

  it('PostgreSQL and Redis load their drivers (nothing is connected before a scrape)', async () => {
    const result = await loadedBy({
      logs: [log()],
      postgres: { url: 'postgres://postgres@127.0.0.1:5432/postgres' },
      redis: { url: 'redis://127.0.0.1:6379' },
    });
    // the drivers bring OpenSSL (TLS connections, SCRAM) and zlib with them (those node:http has not loaded already)
    expect(result).toMatchObject({ problems: [], heavy: ['pg', 'pg-connection-string', 'ioredis'] });
  });

  it('a probe loads none of them', async () => {
    expect(await loadedBy({ logs: [], probe: { url: 'http://127.0.0.1:9/healthz' } })).toEqual({
      problems: [],
      heavy: [],
      builtins: [],
    });
  });
});

describe('lazyPackage', () => {
  it('loads a package once, on first use', () => {
    const get = lazyPackage<typeof import('js-yaml')>('js-yaml');
    expect(typeof get().load).toBe('function');
    expect(get()).toBe(get());
  });

  it.each(['./tailer.js', '../config/load.js', '/etc/passwd'])('refuses a path (%s): only package names', (name) => {
    expect(() => lazyPackage(name)).toThrow(/package name/);
  });
});
