import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import { describeWebConfig, loadWebConfig, maskWebConfig } from '../../src/exporter/config/web-config.js';
import { parseGoDurationMs } from '../../src/exporter/config/web-config-schema.js';
import { problemsOf } from '../helpers/config-error.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

let pki: TestPki;
let dir: string;
let hash: string;

beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'crm-webcfg-'));
  hash = bcrypt.hashSync('s3cret-pass', 4);
}, 60_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

let n = 0;
function write(document: unknown): string {
  const file = join(dir, `web-${(n += 1)}.yml`);
  writeFileSync(file, typeof document === 'string' ? document : yaml.dump(document));
  return file;
}

const webConfigProblems = (file: string): string[] => problemsOf(() => loadWebConfig(file));

const tlsFiles = () => ({ cert_file: pki.serverCert, key_file: pki.serverKey });

describe('web config loading', () => {
  it('accepts a full exporter-toolkit file and builds the TLS context from it', () => {
    const config = loadWebConfig(
      write({
        tls_server_config: {
          ...tlsFiles(),
          client_auth_type: 'RequireAndVerifyClientCert',
          client_ca_file: pki.caCert,
          client_allowed_sans: ['scraper.test'],
          min_version: 'TLS13',
          cipher_suites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256'],
          prefer_server_cipher_suites: false,
          curve_preferences: ['X25519', 'CurveP256'],
        },
        http_server_config: {
          http2: false,
          headers: { 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=3600', 'X-XSS-Protection': '' },
        },
        basic_auth_users: { alice: hash, 'bob.smith': hash.replace(/^\$2b\$/, '$2y$') },
        rate_limit: { interval: '1m30s', burst: 5 },
      }),
    );
    expect(config.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
    expect(config.tls?.allowedSans).toEqual(['scraper.test']);
    expect(config.tls?.context).toMatchObject({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: false,
      ecdhCurve: 'X25519:P-256',
    });
    // The TLS 1.2 suite by its OpenSSL name, then Node's TLS 1.3 defaults so TLS 1.3 stays on as in Go.
    expect(config.tls?.context.ciphers).toMatch(/^ECDHE-RSA-AES256-GCM-SHA384:TLS_/);
    expect(config.tls?.certificate.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(config.tls?.certificate.expired).toBe(false);
    expect(config.headers).toEqual({ 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=3600' });
    expect([...config.users.keys()]).toEqual(['alice', 'bob.smith']);
    expect(config.rateLimit).toEqual({ intervalMs: 90_000, burst: 5 });
    expect(config.files).toEqual([config.file, pki.serverCert, pki.serverKey, pki.caCert]);
    expect(Object.isFrozen(config.tls)).toBe(true);
  });

  it('resolves relative file names against the web config directory, as the toolkit does', () => {
    const file = join(pki.dir, 'web.yml');
    writeFileSync(
      file,
      yaml.dump({ tls_server_config: { cert_file: basename(pki.serverCert), key_file: basename(pki.serverKey) } }),
    );
    const config = loadWebConfig(file);
    expect(config.document.tls_server_config?.cert_file).toBe(pki.serverCert);
    expect(config.files).toContain(pki.serverKey);
  });

  it('accepts inline PEMs, and an empty file (no TLS, no auth, as the toolkit)', () => {
    const inline = loadWebConfig(
      write({ tls_server_config: { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) } }),
    );
    expect(inline.tls?.context.cert).toContain('BEGIN CERTIFICATE');
    const empty = loadWebConfig(write(''));
    expect(empty.tls).toBeUndefined();
    expect(empty.users.size).toBe(0);
    expect(describeWebConfig(empty)).toBe('TLS off; no basic auth');
  });

  it.each([
    ['an unknown key', () => ({ tls_server_cofig: {} }), '(root): Unrecognized key: "tls_server_cofig"'],
    [
      'an unknown TLS key',
      () => ({ tls_server_config: { ...tlsFiles(), certfile: 'x' } }),
      'tls_server_config: Unrecognized key: "certfile"',
    ],
    [
      'a bad min_version',
      () => ({ tls_server_config: { ...tlsFiles(), min_version: 'TLS14' } }),
      'tls_server_config.min_version:',
    ],
    [
      'min above max',
      () => ({ tls_server_config: { ...tlsFiles(), min_version: 'TLS13', max_version: 'TLS12' } }),
      'tls_server_config.min_version: TLS13 is above max_version TLS12',
    ],
    [
      'a bad client_auth_type',
      () => ({ tls_server_config: { ...tlsFiles(), client_auth_type: 'Always' } }),
      'tls_server_config.client_auth_type:',
    ],
    [
      'a missing cert file',
      () => ({ tls_server_config: { ...tlsFiles(), cert_file: '/nonexistent/c.pem' } }),
      'tls_server_config.cert_file: cannot read /nonexistent/c.pem (ENOENT)',
    ],
    [
      'a key of another certificate',
      () => ({ tls_server_config: { ...tlsFiles(), key_file: pki.strayKey } }),
      'tls_server_config.key_file: does not match the certificate in cert_file',
    ],
    [
      'a certificate as key',
      () => ({ tls_server_config: { ...tlsFiles(), key_file: pki.serverCert } }),
      'tls_server_config.key_file: not an unencrypted PEM private key',
    ],
    [
      'a key as certificate',
      () => ({ tls_server_config: { ...tlsFiles(), cert_file: pki.serverKey } }),
      'tls_server_config.cert_file: no PEM certificate in it',
    ],
    [
      'cert and cert_file',
      () => ({ tls_server_config: { ...tlsFiles(), cert: pki.read(pki.serverCert) } }),
      'tls_server_config.cert: give cert or cert_file, not both',
    ],
    [
      'a key without certificate',
      () => ({ tls_server_config: { key_file: pki.serverKey } }),
      'tls_server_config.cert_file: required for TLS',
    ],
    [
      'an empty cert_file',
      () => ({ tls_server_config: { ...tlsFiles(), cert_file: '' } }),
      'tls_server_config.cert_file: must not be empty',
    ],
    [
      'TLS settings without a certificate',
      () => ({ tls_server_config: { min_version: 'TLS13' } }),
      'tls_server_config: sets min_version but no certificate',
    ],
    [
      'a client CA without client auth',
      () => ({ tls_server_config: { ...tlsFiles(), client_ca_file: pki.caCert } }),
      'tls_server_config.client_auth_type: client CAs are configured',
    ],
    [
      'a client CA file without certificates',
      () => ({
        tls_server_config: {
          ...tlsFiles(),
          client_auth_type: 'RequireAndVerifyClientCert',
          client_ca_file: pki.serverKey,
        },
      }),
      'tls_server_config.client_ca_file: no PEM certificate',
    ],
    [
      'SANs with an optional certificate',
      () => ({
        tls_server_config: { ...tlsFiles(), client_auth_type: 'VerifyClientCertIfGiven', client_allowed_sans: ['a'] },
      }),
      'tls_server_config.client_allowed_sans: needs client_auth_type',
    ],
    [
      'an unknown cipher suite',
      () => ({ tls_server_config: { ...tlsFiles(), cipher_suites: ['TLS_RSA_WITH_RC4_128_SHA'] } }),
      'tls_server_config.cipher_suites[0]: not a cipher suite',
    ],
    [
      'an unknown curve',
      () => ({ tls_server_config: { ...tlsFiles(), curve_preferences: ['X25519MLKEM768'] } }),
      'tls_server_config.curve_preferences[0]:',
    ],
    [
      'a header the toolkit does not allow',
      () => ({ http_server_config: { headers: { 'X-Powered-By': 'me' } } }),
      'http_server_config.headers.X-Powered-By: cannot be configured',
    ],
    [
      'a header value outside its set',
      () => ({ http_server_config: { headers: { 'X-Frame-Options': 'allow' } } }),
      'http_server_config.headers.X-Frame-Options: must be one of deny, sameorigin',
    ],
    [
      'a header value with a newline',
      () => ({ http_server_config: { headers: { 'Content-Security-Policy': "default-src 'self'\nX: y" } } }),
      'http_server_config.headers.Content-Security-Policy: must be printable',
    ],
    ['http2 not a boolean', () => ({ http_server_config: { http2: 'yes' } }), 'http_server_config.http2:'],
    [
      'a plain password instead of a hash',
      () => ({ basic_auth_users: { alice: 'hunter2' } }),
      'basic_auth_users.alice: is not a bcrypt hash',
    ],
    [
      'a truncated hash',
      () => ({ basic_auth_users: { alice: hash.slice(0, 59) } }),
      'basic_auth_users.alice: is not a bcrypt hash',
    ],
    [
      'a user name with a colon',
      () => ({ basic_auth_users: { 'a:b': hash } }),
      'basic_auth_users.a:b: a user name cannot contain ":"',
    ],
    [
      'a bad rate limit interval',
      () => ({ rate_limit: { interval: '5 seconds', burst: 1 } }),
      'rate_limit.interval: "5 seconds" is not a Go duration',
    ],
    [
      'a rate limit refusing everything',
      () => ({ rate_limit: { interval: '1s', burst: 0 } }),
      'rate_limit.burst: must be at least 1',
    ],
    ['a list at the root', () => '- a\n- b\n', '(root): must be a mapping'],
    ['a duplicate key', () => 'basic_auth_users: {}\nbasic_auth_users: {}\n', 'not valid YAML (duplicated mapping key'],
  ])('rejects %s, naming the key', (_name, document, expected) => {
    const file = write(document());
    const problems = webConfigProblems(file);
    expect(problems.join('\n')).toContain(`${file}: ${expected}`);
  });

  it('lists every problem at once and never echoes a secret', () => {
    const problems = webConfigProblems(
      write({
        tls_server_config: { ...tlsFiles(), key_file: pki.strayKey, min_version: 'TLS13', max_version: 'TLS12' },
        basic_auth_users: { alice: 'hunter2', bob: hash },
      }),
    );
    expect(problems.length).toBeGreaterThanOrEqual(1);
    const tlsProblems = webConfigProblems(
      write({
        tls_server_config: { ...tlsFiles(), key_file: pki.strayKey, min_version: 'TLS13', max_version: 'TLS12' },
      }),
    );
    expect(tlsProblems.map((p) => p.split(': ')[1])).toEqual([
      'tls_server_config.min_version',
      'tls_server_config.key_file',
    ]);
    const all = problems.join('\n');
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain(hash);
    expect(all).not.toContain('PRIVATE KEY');
  });

  it('masks hashes and inline keys for check-config', () => {
    const config = loadWebConfig(
      write({
        tls_server_config: { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) },
        basic_auth_users: { alice: hash },
      }),
    );
    const shown = yaml.dump(maskWebConfig(config));
    expect(shown).toContain("alice: '****'");
    expect(shown).toContain("key: '****'");
    expect(shown).toContain('cert: (inline PEM)');
    expect(shown).not.toContain(hash);
    expect(shown).not.toContain('PRIVATE KEY');
    expect(describeWebConfig(config)).toMatch(
      /^TLS TLSv1\.2-TLSv1\.3, client certificates NoClientCert, certificate CN=127\.0\.0\.1 .*; basic auth for 1 user$/,
    );
  });

  it.each([
    ['1s', 1000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['1500us', 1.5],
    ['5', undefined],
    ['1d', undefined],
    ['', undefined],
  ])('Go duration %s -> %s ms', (text, ms) => {
    expect(parseGoDurationMs(text)).toBe(ms);
  });
});
