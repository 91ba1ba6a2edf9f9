import { request as httpRequest, type IncomingMessage } from 'node:http';
import { lazyPackage } from '../lazy-package.js';

// node:https (and OpenSSL) only for an https:// probe (bench/footprint.ts).
const https = lazyPackage<typeof import('node:https')>('node:https');

/**
 * One HTTP availability probe (I/O only): GET the URL with a timeout, read the whole body, report what happened.
 * A failing target is a result (`success: false`), never an exception; the probe rejects only when the caller's
 * own signal (the scrape deadline) aborts it.
 */

export interface ProbeOptions {
  url: string;
  /** Whole-probe timeout (connect, headers and body), in milliseconds. */
  timeoutMs: number;
  /** A status that also counts as success besides 2xx (e.g. 401 for an endpoint behind auth). */
  expectedStatus?: number | undefined;
  /** The caller's deadline; when it aborts, the probe rejects with its reason. */
  signal?: AbortSignal | undefined;
}

export interface ProbeResult {
  success: boolean;
  /** HTTP status of the response; 0 when no response arrived (connection refused, DNS, TLS, timeout). */
  status: number;
  /** Wall time from sending the request to the end of the body or the failure, in seconds. */
  durationSeconds: number;
  /** Why the probe failed, for logs; undefined on success. */
  error: string | undefined;
}

/** Success rule: any 2xx, or the configured expected status. */
export function isProbeSuccess(status: number, expectedStatus: number | undefined): boolean {
  return (status >= 200 && status <= 299) || (expectedStatus !== undefined && status === expectedStatus);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  const causeText =
    cause instanceof Error ? (((cause as NodeJS.ErrnoException).code ?? '') + ' ' + cause.message).trim() : '';
  return causeText ? `${err.message}: ${causeText}` : err.message;
}

/** Redirects followed before the probe fails, as fetch() does. */
export const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One GET; resolves with the response once its headers arrived. Aborting `signal` destroys request and response. */
function get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https().request : httpRequest;
    const request = send(
      url,
      { method: 'GET', signal, headers: { 'user-agent': 'crm-exporter-probe', accept: '*/*' } },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

/**
 * node:http rather than fetch(): the first fetch() loads undici, about 16 MiB of RSS for one GET per scrape
 * (bench/footprint.ts). The same behaviour: redirects followed (at most MAX_REDIRECTS) unless a 3xx is the expected
 * status, the whole body read, one deadline for all of it.
 */
export async function probeHttp(options: ProbeOptions): Promise<ProbeResult> {
  const outer = options.signal;
  outer?.throwIfAborted();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  const redirectIsExpected =
    options.expectedStatus !== undefined && options.expectedStatus >= 300 && options.expectedStatus <= 399;
  let status = 0;
  try {
    let url = new URL(options.url);
    let response = await get(url, signal);
    for (let redirects = 0; !redirectIsExpected && REDIRECTS.has(response.statusCode ?? 0); redirects++) {
      const location = response.headers.location;
      if (location === undefined) break;
      response.resume();
      if (redirects === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      url = new URL(location, url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`redirect to a ${url.protocol} URL`);
      response = await get(url, signal);
    }
    status = response.statusCode ?? 0;
    // The body is part of the answer: a health endpoint that stalls mid-body is not available.
    for await (const chunk of response) void chunk;
    const success = isProbeSuccess(status, options.expectedStatus);
    return { success, status, durationSeconds: elapsed(), error: success ? undefined : `HTTP ${status}` };
  } catch (err) {
    if (outer?.aborted) throw outer.reason instanceof Error ? outer.reason : new Error('probe aborted');
    const reason = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : describe(err);
    return { success: false, status, durationSeconds: elapsed(), error: reason };
  }
}
