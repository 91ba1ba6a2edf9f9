// zod's classic API (`zod/v3`), as in schema.ts: a fraction of zod 4's resident memory in the running exporter.
import { z } from 'zod/v3';

/*
 * The Prometheus exporter-toolkit web configuration file (docs/web-configuration.md in prometheus/exporter-toolkit),
 * read strictly: unknown keys, wrong types and values Go would refuse are rejected with their key path. This file is
 * the shape only; src/exporter/config/web-config.ts reads the files it names and builds the TLS options.
 */

/** Go's crypto/tls version names -> Node's. TLS10/TLS11 parse, but OpenSSL 3 refuses them at its default security level. */
export const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

/** Go's crypto/tls ClientAuthType names (RequireClientCert is the toolkit's old alias of RequireAnyClientCert). */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'RequireClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;

/**
 * The TLS 1.0-1.2 suites of Go's tls.CipherSuites() (what the toolkit accepts) with their OpenSSL names. Go ignores
 * cipher_suites for TLS 1.3, and so do we: the TLS 1.3 names are accepted and have no effect.
 */
export const CIPHER_SUITES: Readonly<Record<string, string | null>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};

/** Go's curve names -> OpenSSL's. */
export const CURVES = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' } as const;

/**
 * The only response headers the toolkit lets a web config set, with their allowed values when the set is closed
 * (web/handler.go extraHTTPHeaders). A blank value leaves the header unset.
 */
export const ALLOWED_HEADERS: Readonly<Record<string, readonly string[] | null>> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

/** $2a$/$2b$/$2y$ (htpasswd -B writes $2y$), two-digit cost 04-31, 22 characters of salt and 31 of hash. */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** A Go time.Duration string ("1s", "1m30s", "250ms"); resolves to milliseconds. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  if (!/^(\d+(\.\d+)?(ns|us|µs|μs|ms|s|m|h))+$/.test(text)) return undefined;
  const unitMs: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/g))
    total += Number(amount) * (unitMs[unit as string] as number);
  return total;
}

/** Non-empty: an empty string in the toolkit means "unset", which would silently turn TLS off; say so instead. */
const nonEmpty = z.string().min(1, 'must not be empty (remove the key to leave it unset)');

const tlsServerConfig = z.strictObject({
  cert: nonEmpty.optional(),
  key: nonEmpty.optional(),
  client_ca: nonEmpty.optional(),
  cert_file: nonEmpty.optional(),
  key_file: nonEmpty.optional(),
  client_auth_type: z.enum(CLIENT_AUTH_TYPES).optional(),
  client_ca_file: nonEmpty.optional(),
  client_allowed_sans: z.array(nonEmpty).nullish(),
  min_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).default('TLS12'),
  max_version: z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).default('TLS13'),
  cipher_suites: z
    .array(
      z.string().refine((name) => Object.hasOwn(CIPHER_SUITES, name), {
        message: `not a cipher suite Go's tls.CipherSuites() offers (one of ${Object.keys(CIPHER_SUITES).join(', ')})`,
      }),
    )
    .nullish(),
  prefer_server_cipher_suites: z.boolean().default(true),
  curve_preferences: z.array(z.enum(Object.keys(CURVES) as [keyof typeof CURVES])).nullish(),
});

const headers = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [name, value] of Object.entries(map)) {
    const allowed = ALLOWED_HEADERS[name];
    if (allowed === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `cannot be configured (only ${Object.keys(ALLOWED_HEADERS).join(', ')})`,
      });
    } else if (/[^\t\x20-\x7e]/.test(value)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'must be printable ASCII on one line' });
    } else if (allowed && value !== '' && !allowed.includes(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `must be one of ${allowed.join(', ')} (or blank to leave it unset)`,
      });
    }
  }
});

const users = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [user, hash] of Object.entries(map)) {
    if (user === '') ctx.addIssue({ code: 'custom', path: [user], message: 'a user name must not be empty' });
    // RFC 7617: the user-id ends at the first colon, so such a user could never log in.
    if (user.includes(':'))
      ctx.addIssue({
        code: 'custom',
        path: [user],
        message: 'a user name cannot contain ":" (Basic auth splits on it)',
      });
    // Never echo the value: it is a secret (a hash, or a plain password pasted by mistake).
    if (!BCRYPT_HASH.test(hash)) {
      ctx.addIssue({
        code: 'custom',
        path: [user],
        message: 'is not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters; see htpasswd -nBC 10)',
      });
    }
  }
});

const rateLimit = z
  .strictObject({
    interval: z.string().transform((text, ctx) => {
      const ms = parseGoDurationMs(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a Go duration (e.g. 100ms, 1s, 1m30s; 0 disables the limit)`,
        });
        return z.NEVER;
      }
      return ms;
    }),
    burst: z.number().int().min(0),
  })
  .superRefine((limit, ctx) => {
    // Go's token bucket with burst 0 refuses every request: surely not what was meant.
    if (limit.interval > 0 && limit.burst < 1)
      ctx.addIssue({ code: 'custom', path: ['burst'], message: 'must be at least 1 when interval is set' });
  });

export const webConfigSchema = z.strictObject({
  tls_server_config: tlsServerConfig.nullish(),
  http_server_config: z
    .strictObject({
      /** Accepted for compatibility; the exporter serves HTTP/1.1 only (docs/security.md). */
      http2: z.boolean().default(true),
      headers: headers.nullish(),
    })
    .nullish(),
  basic_auth_users: users.nullish(),
  rate_limit: rateLimit.nullish(),
});

export type WebConfigDocument = z.output<typeof webConfigSchema>;
export type TlsServerConfigDocument = z.output<typeof tlsServerConfig>;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];
