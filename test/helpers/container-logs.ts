/**
 * Writers of container logs as the runtimes write them (CRI as containerd/CRI-O under kubelet, Docker's json-file),
 * rotations as kubelet and Docker do them, and an exactly-once check by route: each access line has its own route.
 */
import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { expect } from 'vitest';

/** A distinct, non-numeric route per line number (routes with digits would be templated to :id). */
export const routeOf = (n: number): string => {
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `/r/${s}`;
};

/** The JSON access line of request `n`. */
export const accessLine = (n: number): string =>
  `{"method":"GET","path":"${routeOf(n)}","status":200,"duration_ms":5,"bytes":10}`;

const TIME = '2026-12-01T04:05:06.123456789Z';

/** CRI records of `text`: split into P parts of at most `split` bytes (a whole F record by default). */
export function criRecords(text: string, stream = 'stdout', split = Infinity): string {
  let out = '';
  let rest = text;
  while (rest.length > split) {
    out += `${TIME} ${stream} P ${rest.slice(0, split)}\n`;
    rest = rest.slice(split);
  }
  return `${out}${TIME} ${stream} F ${rest}\n`;
}

/** Docker json-file records of `text`, split into chunks of at most `split` characters as Docker splits at 16 KiB. */
export function dockerRecords(text: string, stream = 'stdout', split = Infinity): string {
  let out = '';
  let rest = `${text}\n`;
  while (rest.length > split) {
    out += `${JSON.stringify({ log: rest.slice(0, split), stream, time: TIME })}\n`;
    rest = rest.slice(split);
  }
  return `${out}${JSON.stringify({ log: rest, stream, time: TIME })}\n`;
}

export type Wrap = (text: string) => string;

/** Appends the wrapped access lines [from, from + count) to `file` (creating its directories). */
export async function appendLines(file: string, wrap: Wrap, from: number, count: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  let body = '';
  for (let n = from; n < from + count; n++) body += wrap(accessLine(n));
  await appendFile(file, body);
}

/** kubelet's rotation: `0.log` renamed to `0.log.<timestamp>`, a new empty `0.log` created. */
export async function kubeletRotate(file: string, stamp = '20261201-041200'): Promise<string> {
  const rotated = `${file}.${stamp}`;
  await rename(file, rotated);
  await writeFile(file, '');
  return rotated;
}

/** Docker json-file's rotation: `x-json.log` renamed to `x-json.log.1`, a new `x-json.log` created. */
export async function dockerRotate(file: string): Promise<void> {
  await rename(file, `${file}.1`);
  await writeFile(file, '');
}

/** Requests per route in an exposition (crm_http_requests_total), optionally only samples with `labels`. */
export function requestsByRoute(text: string, labels: Record<string, string> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^crm_http_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const l = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).some(([k, v]) => l[k] !== v)) continue;
    out.set(l.route as string, (out.get(l.route as string) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Every request of [from, from + count) (and of each further [from, count] range) counted exactly once, and no other. */
export function expectEachOnce(
  byRoute: Map<string, number>,
  from: number,
  count: number,
  ...more: (readonly [number, number])[]
): void {
  const want = new Map<string, number>();
  for (const [f, c] of [[from, count] as const, ...more]) for (let n = f; n < f + c; n++) want.set(routeOf(n), 1);
  expect(Object.fromEntries([...byRoute].sort())).toEqual(Object.fromEntries([...want].sort()));
}
