/**
 * Deterministic access-log generators for the ingest benchmark: nginx `combined` + `$request_time
 * $upstream_response_time`, and the reference CRM's JSON line. A mix of CRM routes with numeric, UUID and hex ids,
 * query strings, mostly-2xx statuses, log-normal durations and multi-upstream entries.
 */

import { openSync, writeSync, closeSync } from 'node:fs';
import { prng } from '../test/helpers/prng.js';

export const NGINX_BENCH_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time';

const UAS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'crm-mobile/4.2.1 (Android 14; Pixel 8)',
  'python-requests/2.32.3',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
];

interface Req {
  method: string;
  path: string;
  route: string;
}

/** n random hex digits, eight per random number. */
const hex = (rnd: () => number, n: number): string => {
  let s = '';
  while (s.length < n)
    s += Math.floor(rnd() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, n);
};
const uuid = (rnd: () => number): string =>
  `${hex(rnd, 8)}-${hex(rnd, 4)}-4${hex(rnd, 3)}-a${hex(rnd, 3)}-${hex(rnd, 12)}`;

function request(rnd: () => number): Req {
  const r = rnd();
  const id = 1 + Math.floor(rnd() * 50_000);
  if (r < 0.3) return { method: 'GET', path: `/api/customers/${id}`, route: '/api/customers/:id' };
  if (r < 0.42)
    return {
      method: 'GET',
      path: `/api/customers?page=${1 + Math.floor(rnd() * 40)}&limit=50`,
      route: '/api/customers',
    };
  if (r < 0.47) return { method: 'POST', path: '/api/customers', route: '/api/customers' };
  if (r < 0.53) return { method: 'PUT', path: `/api/customers/${id}`, route: '/api/customers/:id' };
  if (r < 0.63) return { method: 'GET', path: `/api/customers/${id}/notes`, route: '/api/customers/:id/notes' };
  if (r < 0.67) return { method: 'POST', path: `/api/customers/${id}/notes`, route: '/api/customers/:id/notes' };
  if (r < 0.75) return { method: 'GET', path: `/api/deals/${uuid(rnd)}`, route: '/api/deals/:id' };
  if (r < 0.79) return { method: 'PATCH', path: `/api/deals/${uuid(rnd)}/stage`, route: '/api/deals/:id/stage' };
  if (r < 0.81) return { method: 'DELETE', path: `/api/notes/${id}`, route: '/api/notes/:id' };
  if (r < 0.88) return { method: 'GET', path: `/api/search?q=acme+${id}`, route: '/api/search' };
  if (r < 0.92) return { method: 'GET', path: `/api/reports/${hex(rnd, 24)}`, route: '/api/reports/:id' };
  if (r < 0.97) return { method: 'GET', path: '/healthz', route: '/healthz' };
  return { method: 'POST', path: '/api/login', route: '/api/login' };
}

function status(rnd: () => number, method: string): number {
  const r = rnd();
  if (r < 0.86) return method === 'POST' ? 201 : 200;
  if (r < 0.89) return 204;
  if (r < 0.91) return 304;
  if (r < 0.93) return 400;
  if (r < 0.97) return 404;
  if (r < 0.98) return 409;
  if (r < 0.995) return 500;
  return 503;
}

/** Log-normal-ish duration in seconds, median ~20 ms. */
function duration(rnd: () => number): number {
  const u = Math.max(1e-9, rnd());
  const v = rnd();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.min(30, Math.exp(Math.log(0.02) + 1.1 * z));
}

export function* nginxLines(count: number, seed = 1): Generator<string> {
  const rnd = prng(seed);
  for (let i = 0; i < count; i++) {
    const q = request(rnd);
    const st = status(rnd, q.method);
    const rt = duration(rnd);
    const u = rnd();
    let urt: string;
    if (q.route === '/healthz' || u < 0.03) urt = '-';
    else if (u < 0.05) urt = `${(rt * 0.3).toFixed(3)}, ${(rt * 0.5).toFixed(3)}`;
    else urt = (rt * 0.9).toFixed(3);
    const sec = String(i % 60).padStart(2, '0');
    const ip = `10.${i & 255}.${(i >> 8) & 255}.${1 + (i % 250)}`;
    const ua = UAS[i % UAS.length] as string;
    yield `${ip} - - [27/Nov/2026:08:00:${sec} +0000] "${q.method} ${q.path} HTTP/1.1" ${st} ${Math.floor(rnd() * 20000)} "-" "${ua}" ${rt.toFixed(3)} ${urt}`;
  }
}

export function* jsonLines(count: number, seed = 2): Generator<string> {
  const rnd = prng(seed);
  const caches = ['hit', 'hit', 'hit', 'miss', 'bypass'];
  const locks = ['acquired', 'acquired', 'contended', 'timeout'];
  for (let i = 0; i < count; i++) {
    const q = request(rnd);
    const st = status(rnd, q.method);
    const ms = duration(rnd) * 1000;
    const db = ms * 0.4;
    const cache = ms * 0.05;
    const ts = `2026-11-27T08:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z`;
    let line =
      `{"time":"${ts}","method":"${q.method}","path":"${q.path}","route":"${q.route}","status":${st},"duration_ms":${ms.toFixed(3)},` +
      `"bytes":${Math.floor(rnd() * 20000)},"db_ms":${db.toFixed(3)},"cache_ms":${cache.toFixed(3)},"cache":"${caches[i % caches.length] as string}","request_id":"${hex(rnd, 32)}"`;
    if (q.method !== 'GET' && i % 3 === 0)
      line += `,"lock":"${locks[i % locks.length] as string}","lock_wait_ms":${(rnd() * 5).toFixed(3)}`;
    yield `${line}}`;
  }
}

/** Writes lines to `file` (truncating it) in large chunks; returns the byte size. */
export function writeLines(file: string, lines: Iterable<string>): number {
  const fd = openSync(file, 'w');
  let chunk: string[] = [];
  let size = 0;
  let pending = 0;
  const flush = (): void => {
    const b = Buffer.from(chunk.join(''), 'utf8');
    writeSync(fd, b);
    size += b.length;
    chunk = [];
    pending = 0;
  };
  for (const l of lines) {
    chunk.push(l, '\n');
    pending += l.length + 1;
    if (pending >= 4 << 20) flush();
  }
  flush();
  closeSync(fd);
  return size;
}
