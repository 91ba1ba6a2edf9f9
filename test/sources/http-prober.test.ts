import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REDIRECTS, probeHttp } from '../../src/exporter/sources/http-prober.js';

/*
 * The prober on node:http (not fetch(), which loads undici: issue 13's footprint) keeps fetch()'s redirect rules:
 * followed, relative or absolute, at most MAX_REDIRECTS, only to http(s); a 3xx that is the expected status is not
 * followed. The collector's own tests (test/collectors/probe.test.ts) cover statuses, timeouts and stalled bodies.
 */

let server: Server;
let base: string;
let hops = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ok') return void res.end('ok');
    if (url.pathname === '/chain') {
      hops++;
      const left = Number(url.searchParams.get('left'));
      // alternately relative and absolute Location headers, and 301/307/308 as well as 302
      const status = [301, 302, 307, 308][left % 4] as number;
      const next = left === 0 ? '/ok' : `/chain?left=${left - 1}`;
      return void res.writeHead(status, { location: left % 2 === 0 ? next : `${base}${next}` }).end();
    }
    if (url.pathname === '/elsewhere') return void res.writeHead(302, { location: 'ftp://127.0.0.1/file' }).end();
    if (url.pathname === '/no-location') return void res.writeHead(302).end('moved, but where?');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('probeHttp redirects', () => {
  it(`follows up to ${MAX_REDIRECTS} redirects, relative and absolute, to the final answer`, async () => {
    hops = 0;
    const result = await probeHttp({ url: `${base}/chain?left=${MAX_REDIRECTS - 1}`, timeoutMs: 5000 });
    expect(result).toMatchObject({ success: true, status: 200, error: undefined });
    expect(hops).toBe(MAX_REDIRECTS);
  });

  it('fails after more redirects than that, like fetch()', async () => {
    const result = await probeHttp({ url: `${base}/chain?left=${MAX_REDIRECTS}`, timeoutMs: 5000 });
    expect(result).toMatchObject({ success: false, status: 0, error: `more than ${MAX_REDIRECTS} redirects` });
  });

  it('does not follow a redirect when a 3xx is the expected status', async () => {
    hops = 0;
    const result = await probeHttp({ url: `${base}/chain?left=3`, timeoutMs: 5000, expectedStatus: 308 });
    expect(result).toMatchObject({ success: true, status: 308 });
    expect(hops).toBe(1);
  });

  it('refuses a redirect to another scheme, and takes a 3xx without Location as the answer', async () => {
    expect(await probeHttp({ url: `${base}/elsewhere`, timeoutMs: 5000 })).toMatchObject({
      success: false,
      error: 'redirect to a ftp: URL',
    });
    expect(await probeHttp({ url: `${base}/no-location`, timeoutMs: 5000 })).toMatchObject({
      success: false,
      status: 302,
      error: 'HTTP 302',
    });
  });
});
