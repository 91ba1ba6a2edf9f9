import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './prometheus.js';

/** Paths of a throw-away PKI made by the real `openssl` binary; every file is PEM. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** Server certificate for IP 127.0.0.1 and DNS localhost, signed by the CA. */
  serverCert: string;
  serverKey: string;
  /** A second server certificate and key for the same address (a renewal), from the same CA. */
  renewedCert: string;
  renewedKey: string;
  /** Client certificate (SAN DNS:scraper.test, URI spiffe://test/prometheus), signed by the CA. */
  clientCert: string;
  clientKey: string;
  /** A second, untrusted CA and a client certificate it signed. */
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  /** A key that matches none of the certificates. */
  strayKey: string;
  read(path: string): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(requireBinary('openssl', 'openssl'), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, ext: string, ca: { cert: string; key: string }): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { cert: `${name}.crt`, key: `${name}.key` };
}

/** Makes a CA, a server certificate for 127.0.0.1, client certificates from it and from an untrusted CA. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'crm-pki-'));
  const ca = makeCa(dir, 'ca');
  issue(dir, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', ca);
  issue(
    dir,
    'renewed',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    ca,
  );
  issue(
    dir,
    'client',
    '/CN=prometheus',
    'subjectAltName=DNS:scraper.test,URI:spiffe://test/prometheus\nextendedKeyUsage=clientAuth\n',
    ca,
  );
  const other = makeCa(dir, 'other-ca');
  issue(dir, 'other-client', '/CN=intruder', 'subjectAltName=DNS:scraper.test\nextendedKeyUsage=clientAuth\n', other);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'stray.key'], dir);
  const at = (file: string): string => join(dir, file);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    renewedCert: at('renewed.crt'),
    renewedKey: at('renewed.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCaCert: at('other-ca.crt'),
    otherClientCert: at('other-client.crt'),
    otherClientKey: at('other-client.key'),
    strayKey: at('stray.key'),
    read: (path) => readFileSync(path, 'utf8'),
  };
}
