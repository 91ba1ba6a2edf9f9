import { readFileSync } from 'node:fs';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.js';
import { lazyPackage } from '../lazy-package.js';
import { describeIssues } from './load.js';
import {
  CIPHER_SUITES,
  CURVES,
  TLS_VERSIONS,
  webConfigSchema,
  type ClientAuthType,
  type TlsServerConfigDocument,
  type WebConfigDocument,
} from './web-config-schema.js';

// node:crypto and node:tls load on first use: a logs-only exporter never pays for OpenSSL's start-up (bench/footprint.ts).
const cryptoModule = lazyPackage<typeof import('node:crypto')>('node:crypto');
const tlsModule = lazyPackage<typeof import('node:tls')>('node:tls');

/** What check-config and the start-up line say about the server certificate. */
export interface CertificateSummary {
  subject: string;
  subjectAltName: string;
  notAfter: string;
  expired: boolean;
}

export interface TlsSettings {
  /** For tls.createSecureContext / server.setSecureContext. Holds the private key: never log or print it. */
  readonly context: SecureContextOptions;
  readonly clientAuth: Exclude<ClientAuthType, 'RequireClientCert'>;
  readonly allowedSans?: readonly string[];
  readonly certificate: CertificateSummary;
}

/** A validated web config: everything the server needs, read once, so serving never touches the disk. */
export interface WebConfig {
  /** Absolute path of the web config file. */
  readonly file: string;
  readonly tls?: TlsSettings;
  /** Response headers to set; blank ones dropped. */
  readonly headers: Readonly<Record<string, string>>;
  /** User name -> bcrypt hash. Empty: no authentication (as in the toolkit). */
  readonly users: ReadonlyMap<string, string>;
  readonly rateLimit?: { readonly intervalMs: number; readonly burst: number };
  readonly http2: boolean;
  /** The web config file and every file it names, watched for changes (src/exporter/server/web-config-source.ts). */
  readonly files: readonly string[];
  /** The resolved document (paths made absolute), for check-config after masking. */
  readonly document: WebConfigDocument;
}

const tls13Suites = (): string[] =>
  tlsModule()
    .DEFAULT_CIPHERS.split(':')
    .filter((name) => name.startsWith('TLS_'));
const VERSION_ORDER = Object.keys(TLS_VERSIONS);
const TLS_KEYS = ['cert', 'cert_file', 'key', 'key_file', 'client_ca', 'client_ca_file', 'client_auth_type'] as const;

type Problems = string[];

function readText(path: string, key: string, problems: Problems): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}

/** Inline PEM, or the file named by `<name>_file` (relative to the web config's directory, as in the toolkit). */
function pemOf(
  tls: TlsServerConfigDocument,
  name: 'cert' | 'key' | 'client_ca',
  files: string[],
  problems: Problems,
): string | undefined {
  const inline = tls[name];
  const file = tls[`${name}_file`];
  if (inline !== undefined && file !== undefined) {
    problems.push(`tls_server_config.${name}: give ${name} or ${name}_file, not both`);
    return undefined;
  }
  if (file === undefined) return inline;
  files.push(file);
  return readText(file, `tls_server_config.${name}_file`, problems);
}

function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((block) => {
    try {
      return [new (cryptoModule().X509Certificate)(block)];
    } catch {
      return [];
    }
  });
}

function summarize(cert: X509Certificate): CertificateSummary {
  const notAfter = new Date(cert.validTo);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    subjectAltName: cert.subjectAltName ?? '',
    notAfter: notAfter.toISOString(),
    expired: notAfter.getTime() < Date.now(),
  };
}

function cipherList(names: readonly string[] | null | undefined): string | undefined {
  const tls12 = (names ?? [])
    .map((name) => CIPHER_SUITES[name])
    .filter((name): name is string => typeof name === 'string');
  // Node turns TLS 1.3 off when the list names no TLS 1.3 suite; Go keeps it on. Keep Node's TLS 1.3 defaults.
  return tls12.length > 0 ? [...tls12, ...tls13Suites()].join(':') : undefined;
}

function buildTls(
  tls: TlsServerConfigDocument,
  rawKeys: readonly string[],
  files: string[],
  problems: Problems,
): TlsSettings | undefined {
  if (!TLS_KEYS.some((key) => tls[key] !== undefined)) {
    if (rawKeys.length > 0) {
      problems.push(
        `tls_server_config: sets ${rawKeys.join(', ')} but no certificate: TLS needs cert_file (or cert) and key_file (or key)`,
      );
    }
    return undefined;
  }
  const before = problems.length;
  const certPem = pemOf(tls, 'cert', files, problems);
  const keyPem = pemOf(tls, 'key', files, problems);
  const caPem = pemOf(tls, 'client_ca', files, problems);
  if (tls.cert === undefined && tls.cert_file === undefined)
    problems.push('tls_server_config.cert_file: required for TLS (or cert, inline)');
  if (tls.key === undefined && tls.key_file === undefined)
    problems.push('tls_server_config.key_file: required for TLS (or key, inline)');

  const given = tls.client_auth_type ?? 'NoClientCert';
  const clientAuth = given === 'RequireClientCert' ? 'RequireAnyClientCert' : given;
  if (caPem !== undefined && clientAuth === 'NoClientCert') {
    problems.push(
      'tls_server_config.client_auth_type: client CAs are configured but client_auth_type is NoClientCert (use RequireAndVerifyClientCert)',
    );
  }
  if (tls.client_allowed_sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    problems.push(
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
    );
  }
  if (VERSION_ORDER.indexOf(tls.min_version) > VERSION_ORDER.indexOf(tls.max_version)) {
    problems.push(`tls_server_config.min_version: ${tls.min_version} is above max_version ${tls.max_version}`);
  }

  const certKey = tls.cert_file === undefined ? 'tls_server_config.cert' : 'tls_server_config.cert_file';
  const keyKey = tls.key_file === undefined ? 'tls_server_config.key' : 'tls_server_config.key_file';
  let cert: X509Certificate | undefined;
  let key: KeyObject | undefined;
  if (certPem !== undefined) {
    cert = certificatesIn(certPem)[0];
    if (!cert) problems.push(`${certKey}: no PEM certificate in it`);
  }
  if (keyPem !== undefined) {
    try {
      key = cryptoModule().createPrivateKey(keyPem);
    } catch {
      // Node's message may quote the input; say what is wrong without it.
      problems.push(`${keyKey}: not an unencrypted PEM private key`);
    }
  }
  if (cert && key && !cert.checkPrivateKey(key))
    problems.push(`${keyKey}: does not match the certificate in ${certKey.slice('tls_server_config.'.length)}`);
  if (caPem !== undefined && certificatesIn(caPem).length === 0) {
    problems.push(
      `tls_server_config.${tls.client_ca_file === undefined ? 'client_ca' : 'client_ca_file'}: no PEM certificate in it`,
    );
  }
  if (problems.length > before || !cert || certPem === undefined || keyPem === undefined) return undefined;

  const context: SecureContextOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: TLS_VERSIONS[tls.min_version],
    maxVersion: TLS_VERSIONS[tls.max_version],
    honorCipherOrder: tls.prefer_server_cipher_suites,
  };
  if (caPem !== undefined) context.ca = caPem;
  const ciphers = cipherList(tls.cipher_suites);
  if (ciphers) context.ciphers = ciphers;
  if (tls.curve_preferences?.length) context.ecdhCurve = tls.curve_preferences.map((curve) => CURVES[curve]).join(':');
  try {
    // Exactly what the server will build: whatever OpenSSL refuses here would stop start-up or a reload.
    tlsModule().createSecureContext(context);
  } catch (err) {
    problems.push(`tls_server_config: OpenSSL refuses these settings (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
  return {
    context,
    clientAuth,
    ...(tls.client_allowed_sans ? { allowedSans: [...tls.client_allowed_sans] } : {}),
    certificate: summarize(cert),
  };
}

function withAbsolutePaths(document: WebConfigDocument, dir: string): WebConfigDocument {
  const tls = document.tls_server_config;
  if (!tls) return document;
  const absolute = (path: string | undefined): string | undefined =>
    path === undefined ? undefined : resolve(dir, path);
  return {
    ...document,
    tls_server_config: {
      ...tls,
      cert_file: absolute(tls.cert_file),
      key_file: absolute(tls.key_file),
      client_ca_file: absolute(tls.client_ca_file),
    },
  };
}

/** Reads and validates a web config file and everything it names; throws one ConfigError listing every problem. */
export function loadWebConfig(path: string): WebConfig {
  const file = resolve(path);
  const fail = (problems: readonly string[]): never => {
    throw new ConfigError(problems.map((problem) => `${file}: ${problem}`));
  };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail([`cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    return fail([`not valid YAML (${(err as Error).message.split('\n')[0]})`]);
  }
  raw ??= {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail(['(root): must be a mapping of keys to values']);
  const parsed = webConfigSchema.safeParse(raw);
  if (!parsed.success) return fail(describeIssues(parsed.error.issues));

  const document = withAbsolutePaths(parsed.data, dirname(file));
  const problems: Problems = [];
  const files: string[] = [file];
  const rawTls = (raw as { tls_server_config?: unknown }).tls_server_config;
  const rawTlsKeys = rawTls && typeof rawTls === 'object' ? Object.keys(rawTls) : [];
  const tls = document.tls_server_config
    ? buildTls(document.tls_server_config, rawTlsKeys, files, problems)
    : undefined;
  if (problems.length > 0) return fail(problems);

  const headers = Object.fromEntries(
    Object.entries(document.http_server_config?.headers ?? {}).filter(([, value]) => value !== ''),
  );
  const limit = document.rate_limit;
  return deepFreeze({
    file,
    ...(tls ? { tls } : {}),
    headers,
    users: new Map(Object.entries(document.basic_auth_users ?? {})),
    ...(limit && limit.interval > 0 ? { rateLimit: { intervalMs: limit.interval, burst: limit.burst } } : {}),
    http2: document.http_server_config?.http2 ?? true,
    files,
    document,
  });
}

/** The resolved web config safe to print: bcrypt hashes and inline keys replaced by ****, inline PEMs summarised. */
export function maskWebConfig(config: WebConfig): unknown {
  const { document } = config;
  const tls = document.tls_server_config;
  return {
    ...document,
    ...(tls
      ? {
          tls_server_config: Object.fromEntries(
            Object.entries({
              ...tls,
              cert: tls.cert === undefined ? undefined : '(inline PEM)',
              key: tls.key === undefined ? undefined : '****',
              client_ca: tls.client_ca === undefined ? undefined : '(inline PEM)',
            }).filter(([, value]) => value !== undefined),
          ),
        }
      : {}),
    ...(document.basic_auth_users
      ? { basic_auth_users: Object.fromEntries(Object.keys(document.basic_auth_users).map((user) => [user, '****'])) }
      : {}),
  };
}

/** One line for the start-up log and check-config: what the web config turns on. */
export function describeWebConfig(config: WebConfig): string {
  const parts: string[] = [];
  if (config.tls) {
    const { certificate, clientAuth, context } = config.tls;
    parts.push(
      `TLS ${context.minVersion}-${context.maxVersion}, client certificates ${clientAuth}, certificate ${certificate.subject} ` +
        `(${certificate.subjectAltName || 'no SAN'}) ${certificate.expired ? 'EXPIRED' : 'valid until'} ${certificate.notAfter}`,
    );
  } else {
    parts.push('TLS off');
  }
  const n = config.users.size;
  if (n > 0)
    parts.push(
      `basic auth for ${n} user${n === 1 ? '' : 's'}${config.tls ? '' : ' (passwords cross the network in clear text without TLS)'}`,
    );
  else parts.push('no basic auth');
  if (config.rateLimit)
    parts.push(`rate limit 1 request per ${config.rateLimit.intervalMs} ms, burst ${config.rateLimit.burst}`);
  return parts.join('; ');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Map)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
