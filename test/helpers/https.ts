import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { SecureVersion } from 'node:tls';

export interface HttpsGetOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** user:password for Basic auth */
  auth?: string;
  authorization?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
  ecdhCurve?: string;
}

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The server certificate's serial number, to see which certificate answered. */
  serial: string;
  protocol: string | null;
}

/** One GET over a fresh TLS connection (no keep-alive agent), with Node's real TLS client. */
export function httpsGet(url: string, options: HttpsGetOptions = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const { authorization, auth, ...tls } = options;
    const req = request(
      url,
      {
        ...tls,
        agent: false,
        ...(auth ? { auth } : {}),
        headers: authorization ? { Authorization: authorization } : {},
      },
      (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const serial = socket.getPeerCertificate().serialNumber;
        const protocol = socket.getProtocol();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serial, protocol }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
