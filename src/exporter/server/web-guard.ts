import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { WebConfig } from '../config/web-config.js';
import type { RejectReason } from '../metrics/web.js';
import { BasicAuthVerifier, parseBasicAuth } from './basic-auth.js';
import { TokenBucket } from './rate-limit.js';

export interface WebGuardOptions {
  /** The web config in force (re-checked on every request, see WebConfigSource). */
  config: () => WebConfig;
  onReject?: (reason: RejectReason) => void;
  verifier?: BasicAuthVerifier;
}

function refuse(res: ServerResponse, status: number, text: string): void {
  // As Go's http.Error: a short text body that browsers will not sniff.
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${text}\n`);
}

/**
 * Wraps the exporter's request listener the way exporter-toolkit's webHandler wraps a Go exporter's mux: rate
 * limit, then the configured response headers, then Basic auth on every path (/metrics, /healthz, / alike). Wrong
 * or missing credentials get 401 with `WWW-Authenticate: Basic`; nothing is logged per request (a flood would
 * flood the log), crm_exporter_web_rejected_total counts instead.
 */
export function guardRequests(next: RequestListener, options: WebGuardOptions): RequestListener {
  const verifier = options.verifier ?? new BasicAuthVerifier();
  const reject = options.onReject ?? (() => undefined);
  let bucket: { for: WebConfig; bucket: TokenBucket } | undefined;

  return (req: IncomingMessage, res: ServerResponse) => {
    const config = options.config();
    if (config.rateLimit) {
      if (bucket?.for !== config)
        bucket = { for: config, bucket: new TokenBucket(config.rateLimit.intervalMs, config.rateLimit.burst) };
      if (!bucket.bucket.take()) {
        reject('rate_limited');
        refuse(res, 429, 'Too Many Requests');
        return;
      }
    }
    for (const [name, value] of Object.entries(config.headers)) res.setHeader(name, value);
    if (config.users.size === 0) {
      next(req, res);
      return;
    }
    const credentials = parseBasicAuth(req.headers.authorization);
    const unauthorized = (): void => {
      reject('unauthorized');
      res.setHeader('WWW-Authenticate', 'Basic');
      refuse(res, 401, 'Unauthorized');
    };
    if (!credentials) {
      unauthorized();
      return;
    }
    verifier
      .verify(config.users, credentials.user, credentials.password)
      .then((result) => {
        if (result === 'ok') next(req, res);
        else if (result === 'denied') unauthorized();
        else {
          reject('auth_busy');
          res.setHeader('Retry-After', '1');
          refuse(res, 429, 'Too Many Requests: authentication is busy');
        }
      })
      // Never an unhandled rejection: whatever went wrong, the client gets no access.
      .catch(() => (res.headersSent ? res.destroy() : refuse(res, 500, 'Internal Server Error')));
  };
}
