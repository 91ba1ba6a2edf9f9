import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import { httpsGet } from '../helpers/https.js';
import { startExporter, spawnExporter } from '../helpers/programs.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/* The built CLI with --web.config.file, as users run it: HTTPS with Basic auth, or exit 1 naming the bad key. */
let dir: string;
let pki: TestPki;

beforeAll(async () => {
  pki = makeTestPki();
  dir = await mkdtemp(join(tmpdir(), 'crm-cli-web-'));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(pki.dir, { recursive: true, force: true });
});

describe('crm-exporter --web.config.file', () => {
  it('serves HTTPS with Basic auth, and stops cleanly on SIGTERM', async () => {
    const config = join(dir, 'config.yaml');
    await writeFile(config, yaml.dump({ listen: '127.0.0.1:0', positions_file: join(dir, 'positions.json') }));
    const web = join(dir, 'web.yml');
    await writeFile(
      web,
      yaml.dump({
        tls_server_config: { cert_file: pki.serverCert, key_file: pki.serverKey },
        basic_auth_users: { prometheus: bcrypt.hashSync('pw', 4) },
      }),
    );
    const exporter = await startExporter(config, { args: ['--web.config.file', web] });
    expect(exporter.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const url = `${exporter.url}/metrics`;
    expect((await httpsGet(url, { ca: pki.read(pki.caCert) })).status).toBe(401);
    expect((await httpsGet(url, { ca: pki.read(pki.caCert), auth: 'prometheus:pw' })).status).toBe(200);
    expect(await exporter.stop()).toBe(0);
    expect(exporter.stderr()).toContain(`web config ${web}: TLS TLSv1.2-TLSv1.3`);
  });

  it('exits 1 before listening when the web config is bad, naming the key', async () => {
    const config = join(dir, 'config-bad.yaml');
    await writeFile(config, yaml.dump({ listen: '127.0.0.1:0', positions_file: join(dir, 'positions-bad.json') }));
    const web = join(dir, 'web-bad.yml');
    await writeFile(web, yaml.dump({ tls_server_config: { cert_file: pki.serverCert, key_file: pki.strayKey } }));
    const exporter = spawnExporter(['--config', config, '--web.config.file', web]);
    expect(await exporter.exited).toBe(1);
    expect(exporter.stderr()).toContain(
      `web_config_file: ${web}: tls_server_config.key_file: does not match the certificate in cert_file`,
    );
    expect(exporter.stderr()).not.toContain('listening on');
  });
});
