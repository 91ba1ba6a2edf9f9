import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import { parseConfig } from '../../src/exporter/config/load.js';
import { ConfigError } from '../../src/exporter/errors.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { sampleSum } from '../helpers/exposition.js';
import { httpsGet, type HttpsGetOptions } from '../helpers/https.js';
import { requireBinary } from '../helpers/prometheus.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/*
 * The exporter behind an exporter-toolkit web config, started through the real startExporter and listen(0), with
 * certificates made by openssl and Node's TLS client and curl as the clients.
 */
let pki: TestPki;
let dir: string;
let hash: string;
let running: RunningExporter | undefined;
let logs: string[] = [];
let webFile = '';

beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'crm-websrv-'));
  hash = bcrypt.hashSync('scrape-pass', 4);
}, 60_000);
afterEach(async () => {
  await running?.close();
  running = undefined;
  logs = [];
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

let n = 0;
function writeWebConfig(document: unknown, file = join(dir, `web-${(n += 1)}.yml`)): string {
  writeFileSync(file, yaml.dump(document));
  return file;
}

async function start(document: unknown): Promise<RunningExporter> {
  webFile = writeWebConfig(document);
  const config = parseConfig({
    listen: '127.0.0.1:0',
    positions_file: join(dir, `positions-${n}.json`),
    web_config_file: webFile,
  });
  running = await startExporter(config, { log: (line) => logs.push(line) });
  return running;
}

const tls = (extra: object = {}) => ({
  tls_server_config: { cert_file: pki.serverCert, key_file: pki.serverKey, ...extra },
});
const trusted = (): HttpsGetOptions => ({ ca: pki.read(pki.caCert) });
const withClientCert = (): HttpsGetOptions => ({
  ...trusted(),
  cert: pki.read(pki.clientCert),
  key: pki.read(pki.clientKey),
});
const withOtherCert = (): HttpsGetOptions => ({
  ...trusted(),
  cert: pki.read(pki.otherClientCert),
  key: pki.read(pki.otherClientKey),
});

/** curl as a child process; asynchronous, since the server it talks to runs in this very process. */
function curl(args: string[]): Promise<{ code: number | null; status: string; stderr: string }> {
  const child = spawn(requireBinary('curl', 'curl'), [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    '10',
    ...args,
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, status: stdout, stderr })));
}

describe('TLS from the web config', () => {
  it('serves every endpoint over HTTPS with the configured certificate and headers', async () => {
    const exporter = await start({
      ...tls(),
      http_server_config: { headers: { 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=60' } },
    });
    expect(exporter.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await httpsGet(`${exporter.url}/metrics`, trusted());
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('crm_exporter_build_info');
    expect(metrics.headers['x-frame-options']).toBe('deny');
    expect(metrics.headers['strict-transport-security']).toBe('max-age=60');
    expect(metrics.protocol).toBe('TLSv1.3');
    expect((await httpsGet(`${exporter.url}/healthz`, trusted())).status).toBe(200);
    // Not trusted without the CA; no answer to plain HTTP on the TLS port.
    await expect(httpsGet(`${exporter.url}/metrics`)).rejects.toThrow(/certificate/i);
    await expect(fetch(exporter.url.replace('https:', 'http:'))).rejects.toThrow();
    const ok = await curl(['--cacert', pki.caCert, `${exporter.url}/metrics`]);
    expect(ok.status, ok.stderr).toBe('200');
    expect(logs.join('\n')).toMatch(
      /web config .*: TLS TLSv1\.2-TLSv1\.3, client certificates NoClientCert, certificate CN=127\.0\.0\.1/,
    );
  });

  it('enforces min_version and max_version', async () => {
    const exporter = await start(tls({ min_version: 'TLS13' }));
    await expect(httpsGet(`${exporter.url}/metrics`, { ...trusted(), maxVersion: 'TLSv1.2' })).rejects.toThrow(
      /protocol version|alert/i,
    );
    expect((await httpsGet(`${exporter.url}/metrics`, trusted())).protocol).toBe('TLSv1.3');
    const old = await curl(['--cacert', pki.caCert, '--tlsv1.2', '--tls-max', '1.2', `${exporter.url}/metrics`]);
    expect(old.code).toBe(35); // CURLE_SSL_CONNECT_ERROR
    expect(old.status).toBe('000');
    const text = (await httpsGet(`${exporter.url}/metrics`, trusted())).body;
    expect(sampleSum(text, 'crm_exporter_web_rejected_total', { reason: 'tls_handshake' })).toBeGreaterThanOrEqual(2);
    await running?.close();

    const capped = await start(tls({ max_version: 'TLS12' }));
    expect((await httpsGet(`${capped.url}/metrics`, trusted())).protocol).toBe('TLSv1.2');
  });

  it('honours cipher_suites for TLS 1.2 and keeps TLS 1.3 available, as Go does', async () => {
    const exporter = await start(tls({ cipher_suites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'] }));
    const tls12 = { ...trusted(), maxVersion: 'TLSv1.2' as const };
    expect(
      (await httpsGet(`${exporter.url}/metrics`, { ...tls12, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).status,
    ).toBe(200);
    await expect(
      httpsGet(`${exporter.url}/metrics`, { ...tls12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
    ).rejects.toThrow(/handshake|alert/i);
    expect((await httpsGet(`${exporter.url}/metrics`, trusted())).protocol).toBe('TLSv1.3');
  });

  it('RequireAndVerifyClientCert refuses a client without a certificate or with one from another CA', async () => {
    const exporter = await start(tls({ client_auth_type: 'RequireAndVerifyClientCert', client_ca_file: pki.caCert }));
    await expect(httpsGet(`${exporter.url}/metrics`, trusted())).rejects.toThrow(
      /certificate required|socket hang up|ECONNRESET/i,
    );
    await expect(httpsGet(`${exporter.url}/metrics`, withOtherCert())).rejects.toThrow();
    const ok = await httpsGet(`${exporter.url}/metrics`, withClientCert());
    expect(ok.status).toBe(200);
    expect(sampleSum(ok.body, 'crm_exporter_web_rejected_total', { reason: 'tls_handshake' })).toBe(2);
    expect((await curl(['--cacert', pki.caCert, `${exporter.url}/metrics`])).status).toBe('000');
    const viaCurl = await curl([
      '--cacert',
      pki.caCert,
      '--cert',
      pki.clientCert,
      '--key',
      pki.clientKey,
      `${exporter.url}/metrics`,
    ]);
    expect(viaCurl.status, viaCurl.stderr).toBe('200');
    expect(logs.some((line) => line.startsWith('tls: handshake with 127.0.0.1 failed'))).toBe(true);
  });

  it('VerifyClientCertIfGiven lets a client without a certificate in, not one with a bad certificate', async () => {
    const exporter = await start(tls({ client_auth_type: 'VerifyClientCertIfGiven', client_ca_file: pki.caCert }));
    expect((await httpsGet(`${exporter.url}/metrics`, trusted())).status).toBe(200);
    expect((await httpsGet(`${exporter.url}/metrics`, withClientCert())).status).toBe(200);
    await expect(httpsGet(`${exporter.url}/metrics`, withOtherCert())).rejects.toThrow();
    const text = (await httpsGet(`${exporter.url}/metrics`, trusted())).body;
    expect(sampleSum(text, 'crm_exporter_web_rejected_total', { reason: 'client_certificate' })).toBe(1);
  });

  it('RequireAnyClientCert wants a certificate but not a verified one', async () => {
    const exporter = await start(tls({ client_auth_type: 'RequireAnyClientCert' }));
    await expect(httpsGet(`${exporter.url}/metrics`, trusted())).rejects.toThrow();
    expect((await httpsGet(`${exporter.url}/metrics`, withOtherCert())).status).toBe(200);
  });

  it('client_allowed_sans admits only certificates carrying a listed SAN', async () => {
    const exporter = await start(
      tls({
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: pki.caCert,
        client_allowed_sans: ['spiffe://test/prometheus'],
      }),
    );
    expect((await httpsGet(`${exporter.url}/metrics`, withClientCert())).status).toBe(200);
    await running?.close();
    const strict = await start(
      tls({
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: pki.caCert,
        client_allowed_sans: ['grafana.test'],
      }),
    );
    await expect(httpsGet(`${strict.url}/metrics`, withClientCert())).rejects.toThrow();
    expect(logs.some((line) => line.includes('client certificate has no SAN in client_allowed_sans'))).toBe(true);
  });
});

describe('Basic auth from the web config', () => {
  const basic = (user: string, password: string): string =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('answers 401 with WWW-Authenticate: Basic without or with wrong credentials, on every endpoint', async () => {
    const exporter = await start({ ...tls(), basic_auth_users: { prometheus: hash } });
    for (const path of ['/metrics', '/healthz', '/', '/nope']) {
      const none = await httpsGet(`${exporter.url}${path}`, trusted());
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Basic');
      expect(none.body).toBe('Unauthorized\n');
    }
    for (const authorization of [
      basic('prometheus', 'wrong'),
      basic('nobody', 'scrape-pass'),
      basic('Prometheus', 'scrape-pass'),
      'Bearer abc',
    ]) {
      expect((await httpsGet(`${exporter.url}/metrics`, { ...trusted(), authorization })).status, authorization).toBe(
        401,
      );
    }
    const ok = await httpsGet(`${exporter.url}/metrics`, { ...trusted(), auth: 'prometheus:scrape-pass' });
    expect(ok.status).toBe(200);
    expect(sampleSum(ok.body, 'crm_exporter_web_rejected_total', { reason: 'unauthorized' })).toBe(8);
    expect((await httpsGet(`${exporter.url}/healthz`, { ...trusted(), auth: 'prometheus:scrape-pass' })).status).toBe(
      200,
    );
    expect((await httpsGet(`${exporter.url}/nope`, { ...trusted(), auth: 'prometheus:scrape-pass' })).status).toBe(404);

    expect((await curl(['--cacert', pki.caCert, `${exporter.url}/metrics`])).status).toBe('401');
    expect((await curl(['--cacert', pki.caCert, '-u', 'prometheus:wrong', `${exporter.url}/metrics`])).status).toBe(
      '401',
    );
    expect(
      (await curl(['--cacert', pki.caCert, '-u', 'prometheus:scrape-pass', `${exporter.url}/metrics`])).status,
    ).toBe('200');
    expect(logs.join('\n')).not.toContain(hash);
    expect(logs.join('\n')).not.toContain('scrape-pass');
  });

  it('works over plain HTTP too, and says the passwords travel in clear text', async () => {
    const exporter = await start({
      basic_auth_users: { prometheus: hash },
      http_server_config: { headers: { 'X-Content-Type-Options': 'nosniff' } },
    });
    expect(exporter.url).toMatch(/^http:/);
    const denied = await fetch(`${exporter.url}/metrics`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('x-content-type-options')).toBe('nosniff');
    const ok = await fetch(`${exporter.url}/metrics`, {
      headers: { Authorization: basic('prometheus', 'scrape-pass') },
    });
    expect(ok.status).toBe(200);
    expect(logs.join('\n')).toContain('passwords cross the network in clear text');
  });

  it('rate_limit answers 429 once the burst is spent', async () => {
    const exporter = await start({ rate_limit: { interval: '1h', burst: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await fetch(`${exporter.url}/healthz`)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('web config reload', () => {
  it('picks up renewed certificates and changed users on the next connection, and keeps the last good config on a bad change', async () => {
    const cert = join(dir, 'live.crt');
    const key = join(dir, 'live.key');
    copyFileSync(pki.serverCert, cert);
    copyFileSync(pki.serverKey, key);
    const document = { tls_server_config: { cert_file: cert, key_file: key }, basic_auth_users: { prometheus: hash } };
    const exporter = await start(document);
    const file = webFile;
    const get = (auth = 'prometheus:scrape-pass') => httpsGet(`${exporter.url}/metrics`, { ...trusted(), auth });
    const first = await get();
    const renewedSerial = spawnSync('openssl', ['x509', '-noout', '-serial', '-in', pki.renewedCert], {
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('=')[1];
    expect(first.status).toBe(200);
    expect(first.serial).not.toBe(renewedSerial);

    // Renewal: both files replaced; the next connection is served with the new certificate.
    copyFileSync(pki.renewedCert, cert);
    copyFileSync(pki.renewedKey, key);
    const renewed = await get();
    expect(renewed.serial).toBe(renewedSerial);
    expect(sampleSum(renewed.body, 'crm_exporter_web_config_last_reload_successful')).toBe(1);
    expect(logs.some((line) => line.startsWith(`web config: reloaded ${file}`))).toBe(true);

    // A key that does not match: refused, logged once, the renewed certificate keeps serving, the gauge says 0.
    copyFileSync(pki.strayKey, key);
    const kept = await get();
    expect(kept.serial).toBe(renewedSerial);
    expect(sampleSum(kept.body, 'crm_exporter_web_config_last_reload_successful')).toBe(0);
    await get();
    const failures = logs.filter((line) => line.startsWith('web config: reload failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('tls_server_config.key_file: does not match the certificate in cert_file');
    copyFileSync(pki.renewedKey, key);
    expect(sampleSum((await get()).body, 'crm_exporter_web_config_last_reload_successful')).toBe(1);

    // A new password for the user: the old one stops working at once, the new one works.
    writeWebConfig({ ...document, basic_auth_users: { prometheus: bcrypt.hashSync('rotated', 4) } }, file);
    expect((await get()).status).toBe(401);
    expect((await get('prometheus:rotated')).status).toBe(200);

    // What cannot change on the fly is refused with the reason.
    writeWebConfig(
      { ...document, tls_server_config: { ...document.tls_server_config, client_auth_type: 'RequireAnyClientCert' } },
      file,
    );
    expect((await get('prometheus:rotated')).status).toBe(200);
    expect(logs.some((line) => line.includes('changing client_auth_type needs a restart'))).toBe(true);
  });

  it('a bad web config stops start-up and names the key', async () => {
    const file = writeWebConfig({
      tls_server_config: { cert_file: pki.serverCert, key_file: pki.strayKey },
      basic_auth_users: {},
    });
    const config = parseConfig({ listen: '127.0.0.1:0', positions_file: join(dir, 'p.json'), web_config_file: file });
    const error = await startExporter(config, { log: () => undefined }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `${file}: tls_server_config.key_file: does not match the certificate in cert_file`,
    ]);
  });
});
