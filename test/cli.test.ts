import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { main } from '../src/exporter/cli.js';
import { VERSION } from '../src/exporter/version.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/config/${name}`, import.meta.url));
const example = fileURLToPath(new URL('../crm-exporter.example.yaml', import.meta.url));

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) }, env);
  return { code, out, err };
}

describe('crm-exporter CLI', () => {
  it('prints help and version', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('check-config FILE');
    const version = await cli(['--version']);
    expect(version.out.trim()).toBe(VERSION);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('check-config prints the resolved config with secrets masked', async () => {
    const result = await cli(['check-config', example], { CRM_EXPORTER_POSTGRES_URL: 'postgres://crm:s3cret@db/crm' });
    expect(result.code).toBe(0);
    expect(result.out).toContain('configuration is valid');
    expect(result.out).toContain('max_line_bytes: 65536');
    expect(result.out).toContain('postgres://crm:****@db/crm');
    expect(result.out).not.toContain('s3cret');
  });

  it('check-config exits 1 listing every problem with its key path', async () => {
    const result = await cli(['check-config', fixture('bad.yaml')]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('logs[0].format');
    expect(result.err).toContain('postgres.timeout');
    expect(result.err).not.toMatch(/s3cret|hunter2/);
  });

  it('refuses to run without a config and rejects unknown commands', async () => {
    expect((await cli([])).err).toContain('no configuration');
    expect((await cli([])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['--bogus'])).code).toBe(2);
    expect((await cli(['--config', '/nonexistent.yaml'])).code).toBe(1);
  });
});
