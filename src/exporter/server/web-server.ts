import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import type { WebConfig } from '../config/web-config.js';
import { registerWebMetrics } from '../metrics/web.js';
import { clientCertificateProblem } from './client-cert.js';
import { WebConfigSource } from './web-config-source.js';
import { guardRequests } from './web-guard.js';
import { withHttpDate } from './http-date.js';
import { lazyPackage } from '../lazy-package.js';

// node:https (and OpenSSL) only when the web config has TLS (bench/footprint.ts).
const httpsModule = lazyPackage<typeof import('node:https')>('node:https');

export interface WebServerOptions {
  /** The validated web_config_file; without it, plain HTTP with no authentication. */
  webConfig?: WebConfig;
  /** Where the web layer's metrics go (crm_exporter_web_*). */
  registry: Registry;
  log: (line: string) => void;
}

/** At most one line per minute for per-connection trouble a client can cause at will; the rest is counted. */
function throttled(log: (line: string) => void, everyMs = 60_000): (line: string) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < everyMs) {
      suppressed += 1;
      return;
    }
    log(suppressed > 0 ? `${line} (and ${suppressed} more since the last such line)` : line);
    last = now;
    suppressed = 0;
  };
}

/**
 * The HTTP(S) server in front of app.ts' request listener, configured by an exporter-toolkit web config: TLS (with
 * client certificates), Basic auth, response headers and rate limit, reloaded when the files change. No listen() here.
 */
export function createWebServer(handler: RequestListener, options: WebServerOptions): Server | HttpsServer {
  const initial = options.webConfig;
  if (!initial) return createHttpServer(withHttpDate(handler));
  const metrics = registerWebMetrics(options.registry);
  const tlsLog = throttled(options.log);
  // The HTTPS server exists only after the source that configures it; apply() runs on later reloads only.
  const box: { https?: HttpsServer } = {};
  const source = new WebConfigSource(initial, {
    log: options.log,
    onReload: (ok) => metrics.reloaded(ok),
    // New connections get the new certificate, key, client CAs, versions and ciphers; open ones keep theirs.
    apply: (next) => {
      if (next.tls) box.https?.setSecureContext(next.tls.context);
    },
  });
  // Outermost, so the guard's own refusals (401, 429) carry the same Date header.
  const guarded = withHttpDate(
    guardRequests(handler, {
      config: () => source.get(),
      onReject: (reason) => metrics.rejected(reason),
    }),
  );
  const tls = initial.tls;
  if (!tls) return createHttpServer(guarded);
  const https = httpsModule().createServer(
    {
      ...tls.context,
      requestCert: tls.clientAuth !== 'NoClientCert',
      // Only this mode lets OpenSSL refuse during the handshake; the others are decided below (client-cert.ts).
      rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
    },
    guarded,
  );
  box.https = https;
  // Before Node wraps the socket in TLS: a changed certificate must be in place for this very handshake.
  https.prependListener('connection', () => source.get());
  https.prependListener('secureConnection', (socket: TLSSocket) => {
    const current = source.get().tls;
    if (!current) return;
    const problem = clientCertificateProblem(
      { authorized: socket.authorized, certificate: socket.getPeerX509Certificate() },
      current,
    );
    if (problem) {
      metrics.rejected('client_certificate');
      tlsLog(`tls: closed a connection from ${socket.remoteAddress ?? '?'}: ${problem}`);
      socket.destroy();
    }
  });
  https.on('tlsClientError', (err, socket) => {
    metrics.rejected('tls_handshake');
    tlsLog(`tls: handshake with ${socket.remoteAddress ?? '?'} failed: ${err.message.split('\n')[0]}`);
  });
  return https;
}
