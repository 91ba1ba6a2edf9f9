import { isIPv6 } from 'node:net';
import type { X509Certificate } from 'node:crypto';
import type { TlsSettings } from '../config/web-config.js';

/** Go prints IPv6 addresses compressed (RFC 5952); OpenSSL prints them in full. Compare in Go's form. */
function canonicalIp(value: string): string {
  return isIPv6(value) ? new URL(`http://[${value}]/`).hostname.slice(1, -1) : value;
}

/**
 * The values of an X509Certificate.subjectAltName string (`DNS:a, IP Address:1.2.3.4, URI:x, email:y`; Node quotes
 * a value holding a comma or quote as a JSON string), as Go's SAN check sees them: DNS names, emails, IPs, URIs.
 */
export function subjectAltNames(text: string | undefined): string[] {
  const out: string[] = [];
  for (const match of (text ?? '').matchAll(
    /(?:^|, )(DNS|IP Address|email|URI|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g,
  )) {
    const kind = match[1] as string;
    const raw = match[2] as string;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        continue;
      }
    }
    if (kind === 'IP Address') out.push(canonicalIp(value));
    else if (kind === 'DNS' || kind === 'email' || kind === 'URI') out.push(value);
  }
  return out;
}

export interface PeerTlsState {
  authorized: boolean;
  certificate: X509Certificate | undefined;
}

/**
 * What Go's crypto/tls would refuse that Node's requestCert/rejectUnauthorized cannot express: a missing certificate
 * under RequireAnyClientCert, an unverifiable one under VerifyClientCertIfGiven, a SAN outside client_allowed_sans.
 * Returns why the connection must be closed, or undefined to keep it.
 */
export function clientCertificateProblem(peer: PeerTlsState, tls: TlsSettings): string | undefined {
  const { clientAuth, allowedSans } = tls;
  if (clientAuth === 'NoClientCert' || clientAuth === 'RequestClientCert') return undefined;
  if (!peer.certificate) {
    return clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'no client certificate';
  }
  if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && !peer.authorized) {
    return 'client certificate not signed by client_ca';
  }
  if (allowedSans) {
    const allowed = new Set(allowedSans.map(canonicalIp));
    if (!subjectAltNames(peer.certificate.subjectAltName).some((san) => allowed.has(san)))
      return 'client certificate has no SAN in client_allowed_sans';
  }
  return undefined;
}
