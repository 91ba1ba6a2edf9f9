import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import { main } from '../src/exporter/cli.js';
import { makeTestPki, type TestPki } from './helpers/tls.js';

/* check-config covers the web config file: the same loader start-up uses, hashes and keys masked in the output. */
let pki: TestPki;
let dir: string;
let hash: string;
let config: string;

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) }, env);
  return { code, out, err };
}

function write(name: string, document: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, yaml.dump(document));
  return file;
}

beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'crm-cli-web-'));
  hash = bcrypt.hashSync('s3cret-pass', 4);
  config = write('config.yaml', { listen: '127.0.0.1:9464', positions_file: join(dir, 'positions.json') });
}, 60_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

describe('check-config with a web config', () => {
  it('validates the file named by --web.config.file and prints it with hashes and keys masked', async () => {
    const web = write('web.yml', {
      tls_server_config: { cert_file: pki.serverCert, key: pki.read(pki.serverKey) },
      basic_auth_users: { prometheus: hash },
    });
    const result = await cli(['check-config', config, '--web.config.file', web]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain(`web_config_file: ${web}`);
    expect(result.out).toContain(
      `# web_config_file ${web}: valid (TLS TLSv1.2-TLSv1.3, client certificates NoClientCert, certificate CN=127.0.0.1`,
    );
    expect(result.out).toContain("prometheus: '****'");
    expect(result.out).toContain("key: '****'");
    expect(result.out).toContain(`cert_file: ${pki.serverCert}`);
    expect(result.out).not.toContain(hash);
    expect(result.out).not.toContain('PRIVATE KEY');
  });

  it('exits 1 naming the web config key, from the config file, the environment or the flag (flag wins)', async () => {
    const bad = write('bad-web.yml', {
      tls_server_config: { cert_file: pki.serverCert, key_file: pki.strayKey },
      basic_auth_users: { prometheus: 'hunter2' },
    });
    const good = write('good-web.yml', { basic_auth_users: { prometheus: hash } });
    const inFile = write('with-web.yaml', { positions_file: join(dir, 'p.json'), web_config_file: bad });
    for (const result of [
      await cli(['check-config', inFile]),
      await cli(['check-config', config], { CRM_EXPORTER_WEB_CONFIG_FILE: bad }),
      await cli(['check-config', config, '--web.config.file', bad], { CRM_EXPORTER_WEB_CONFIG_FILE: good }),
    ]) {
      expect(result.code).toBe(1);
      expect(result.err).toContain(`web_config_file: ${bad}: basic_auth_users.prometheus: is not a bcrypt hash`);
      expect(result.err).not.toContain('hunter2');
    }
    const mismatch = write('mismatch-web.yml', {
      tls_server_config: { cert_file: pki.serverCert, key_file: pki.strayKey },
    });
    const result = await cli(['check-config', config, '--web.config.file', mismatch]);
    expect(result.err).toContain(
      `web_config_file: ${mismatch}: tls_server_config.key_file: does not match the certificate in cert_file`,
    );
    expect((await cli(['check-config', config, '--web.config.file', join(dir, 'missing.yml')])).err).toContain(
      'missing.yml: cannot read (ENOENT)',
    );
  });

  it('documents the flag and the environment variable in --help', async () => {
    const help = await cli(['--help']);
    expect(help.out).toContain('--web.config.file FILE');
    expect(help.out).toContain('CRM_EXPORTER_WEB_CONFIG_FILE');
  });
});
