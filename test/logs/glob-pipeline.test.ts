/**
 * Globs, container wrappers and path labels on real files (issue 13 item 3): CRI logs rotated as kubelet rotates
 * them, Docker json-file logs rotated as Docker does, restarts from saved positions across rotations, a CRI record
 * split across a rotation and across a restart, pod directories deleted and created, max_files and
 * max_path_label_values.
 */
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { GlobLogPipeline, globPositionKey } from '../../src/exporter/logs/glob-pipeline.js';
import type { SavedPosition } from '../../src/exporter/sources/tailer.js';
import {
  accessLine,
  appendLines,
  criRecords,
  dockerRecords,
  dockerRotate,
  expectEachOnce,
  kubeletRotate,
  requestsByRoute,
} from '../helpers/container-logs.js';
import { sampleSum } from '../helpers/exposition.js';
import { makeTempDir, removeDir, within } from '../helpers/tail.js';

let dir: string;
const open: GlobLogPipeline[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
  await removeDir(dir);
});

const POLL = 20;

function source(over: Record<string, unknown>): LogSourceConfig {
  return configSchema.parse({
    logs: [
      {
        name: 'pods',
        path: join(dir, 'pods/*_crm-*/*/*.log'),
        format: 'json',
        container_format: 'cri',
        start_at: 'beginning',
        poll_interval: `${POLL}ms`,
        max_routes: 2000,
        ...over,
      },
    ],
  }).logs[0] as LogSourceConfig;
}

interface Running {
  p: GlobLogPipeline;
  registry: Registry;
  released: string[];
  logged: string[];
}

async function run(src: LogSourceConfig, saved?: Record<string, SavedPosition>, retainMs?: number): Promise<Running> {
  const registry = new Registry();
  const released: string[] = [];
  const logged: string[] = [];
  const p = new GlobLogPipeline(src, registry, {
    saved,
    watch: false,
    onRelease: (key) => released.push(key),
    log: (line) => logged.push(line),
    retainMs,
  });
  open.push(p);
  await p.start();
  return { p, registry, released, logged };
}

/** Reads until `done` holds on the exposition (rescanning the glob each round), or fails after 25 s (a loaded machine: seen at 10 s). */
async function until(r: Running, done: (text: string) => boolean, what: string): Promise<string> {
  return within(
    (async () => {
      for (;;) {
        await r.p.caughtUp();
        const text = await r.registry.metrics();
        if (done(text)) return text;
        await new Promise((resolve) => setTimeout(resolve, POLL));
        await r.p.rescan();
      }
    })(),
    25_000,
    what,
  );
}

const requests = (text: string, labels: Record<string, string> = {}): number =>
  sampleSum(text, 'crm_http_requests_total', labels);

async function stop(r: Running): Promise<Record<string, SavedPosition>> {
  await r.p.close();
  open.splice(open.indexOf(r.p), 1);
  const out: Record<string, SavedPosition> = {};
  r.p.collectPositions(out);
  return out;
}

const cri = (text: string): string => criRecords(text);

describe('CRI logs under a glob, rotated as kubelet rotates them', () => {
  it('counts every line once across a rotation, joins a record split across it, labels it from the path', async () => {
    const log = join(dir, 'pods/crm_crm-a_uid1/crm/0.log');
    await appendLines(log, cri, 0, 100);
    const r = await run(source({ path_labels: '/pods/(?<namespace>[^_]+)_(?<pod>[^_]+)_' }));
    await until(r, (t) => requests(t) === 100, '100 requests');
    await appendLines(log, cri, 100, 50);
    // a record split into P parts, the last part written after the rotation
    const split = criRecords(accessLine(150), 'stdout', 20).split('\n');
    await appendFile(log, `${split.slice(0, -2).join('\n')}\n`);
    await kubeletRotate(log);
    await appendFile(log, `${split.slice(-2).join('\n')}`);
    await appendLines(log, cri, 151, 49);
    const text = await until(r, (t) => requests(t) === 200, '200 requests');
    expectEachOnce(requestsByRoute(text), 0, 200);
    expect(requests(text, { namespace: 'crm', pod: 'crm-a' })).toBe(200);
    expect(sampleSum(text, 'crm_log_lines_total', { log: 'pods', namespace: 'crm', pod: 'crm-a' })).toBe(200);
    expect(sampleSum(text, 'crm_log_parse_errors_total')).toBe(0);
    expect(sampleSum(text, 'crm_log_rotations_total', { namespace: 'crm', pod: 'crm-a' })).toBe(1);
    expect(sampleSum(text, 'crm_log_files', { log: 'pods' })).toBe(1);
  });

  it('restarts from the saved positions: without a rotation, and across a kubelet rotation while down', async () => {
    const log = join(dir, 'pods/crm_crm-a_uid1/crm/0.log');
    await appendLines(log, cri, 0, 100);
    const first = await run(source({}));
    await until(first, (t) => requests(t) === 100, '100 requests');
    let saved = await stop(first);
    expect(Object.keys(saved)).toEqual([globPositionKey('pods', log)]);

    await appendLines(log, cri, 100, 10);
    const second = await run(source({}), saved);
    expectEachOnce(requestsByRoute(await until(second, (t) => requests(t) === 10, '10')), 100, 10);
    saved = await stop(second);

    // down while kubelet rotates: 20 lines left in the renamed file, 30 in the new one
    await appendLines(log, cri, 110, 20);
    await kubeletRotate(log);
    await appendLines(log, cri, 130, 30);
    const third = await run(source({}), saved);
    const text = await until(third, (t) => requests(t) === 50, '50 requests');
    expectEachOnce(requestsByRoute(text), 110, 50);
    saved = await stop(third);
    expect(Object.keys(saved)).toEqual([globPositionKey('pods', log)]);

    // and the positions now name the new file: nothing is read twice
    await appendLines(log, cri, 160, 5);
    const fourth = await run(source({}), saved);
    expectEachOnce(requestsByRoute(await until(fourth, (t) => requests(t) === 5, '5')), 160, 5);
  });

  it('restarts exactly when stopped while a rotated predecessor was still being drained (position with next)', async () => {
    const log = join(dir, 'pods/crm_crm-a_uid1/crm/0.log');
    await appendLines(log, cri, 0, 10);
    const slow = source({ poll_interval: '5s' }); // the predecessor stays "not quiet" until we stop
    const first = await run(slow);
    await until(first, (t) => requests(t) === 10, '10 requests');
    await kubeletRotate(log);
    await appendLines(log, cri, 10, 10);
    await until(first, (t) => requests(t) === 20, '20 requests');
    const saved = await stop(first);
    expect(saved[globPositionKey('pods', log)]?.next).toBeDefined();
    // while down: the runtime wrote late lines to the renamed file, and more to the new one
    await appendLines(`${log}.20261201-041200`, cri, 20, 3);
    await appendLines(log, cri, 23, 4);
    const second = await run(source({}), saved);
    expectEachOnce(requestsByRoute(await until(second, (t) => requests(t) === 7, '7 requests')), 20, 7);
  });

  it('a record split across a restart: its first part is lost with the restart, its last part is one parse error', async () => {
    const log = join(dir, 'pods/crm_crm-a_uid1/crm/0.log');
    await appendLines(log, cri, 0, 10);
    const [p1, p2] = [accessLine(10).slice(0, 30), accessLine(10).slice(30)];
    await appendFile(log, `2026-12-01T04:05:06.1Z stdout P ${p1}\n`);
    const first = await run(source({}));
    await until(first, (t) => requests(t) === 10, '10 requests');
    const saved = await stop(first);
    await appendFile(log, `2026-12-01T04:05:06.2Z stdout F ${p2}\n`);
    await appendLines(log, cri, 11, 5);
    const second = await run(source({}), saved);
    const text = await until(second, (t) => requests(t) === 5, '5 requests');
    expectEachOnce(requestsByRoute(text), 11, 5);
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(6);
    expect(sampleSum(text, 'crm_log_parse_errors_total', { reason: 'invalid_json' })).toBe(1);
  });

  it('releases a deleted pod directory once read to its end, and follows a new one from its beginning', async () => {
    const a = join(dir, 'pods/crm_crm-a_uid1/crm/0.log');
    const b = join(dir, 'pods/crm_crm-b_uid2/crm/0.log');
    await appendLines(a, cri, 0, 10);
    await appendLines(b, cri, 100, 10);
    await appendLines(join(dir, 'pods/crm_other-c_uid3/crm/0.log'), cri, 500, 10); // not matched
    const r = await run(source({ start_at: 'end' }));
    await appendLines(a, cri, 10, 5);
    await appendLines(b, cri, 110, 5);
    await until(r, (t) => requests(t) === 10, 'the lines written after start');
    await appendLines(a, cri, 15, 5); // written just before the pod's directory is deleted
    await rm(join(dir, 'pods/crm_crm-a_uid1'), { recursive: true });
    await until(r, () => r.released.length === 1, 'the release of pod a');
    expect(r.released).toEqual([globPositionKey('pods', a)]);
    const c = join(dir, 'pods/crm_crm-c_uid4/crm/0.log');
    await appendLines(c, cri, 200, 7); // a new pod: its whole log is new
    const text = await until(r, (t) => requests(t) === 22, 'pod c');
    expectEachOnce(requestsByRoute(text), 10, 10, [110, 5], [200, 7]);
    expect(sampleSum(text, 'crm_log_files')).toBe(2);
    const positions: Record<string, SavedPosition> = {};
    r.p.collectPositions(positions);
    expect(Object.keys(positions).sort()).toEqual([globPositionKey('pods', b), globPositionKey('pods', c)]);
  });
});

describe('Docker json-file logs under a glob', () => {
  const docker = (text: string): string => dockerRecords(text);
  const dockerSource = (over: Record<string, unknown> = {}): LogSourceConfig =>
    source({ path: join(dir, 'containers/*/*-json.log'), container_format: 'docker', ...over });

  it('counts every line once across rotations to x-json.log.1, joins lines Docker split, and restarts exactly', async () => {
    const log = join(dir, 'containers/abc/abc-json.log');
    await appendLines(log, docker, 0, 50);
    const first = await run(dockerSource());
    await until(first, (t) => requests(t) === 50, '50 requests');
    // a line split in 16-byte chunks, its last chunk after the rotation
    const chunks = dockerRecords(accessLine(50), 'stdout', 16).split('\n');
    await appendFile(log, `${chunks.slice(0, -2).join('\n')}\n`);
    await dockerRotate(log);
    await appendFile(log, `${chunks.slice(-2).join('\n')}`);
    await appendLines(log, docker, 51, 49);
    expectEachOnce(requestsByRoute(await until(first, (t) => requests(t) === 100, '100')), 0, 100);
    const saved = await stop(first);

    // down while Docker rotates again: the rest of the old file is found in x-json.log.1 by the tailer itself
    await appendLines(log, docker, 100, 20);
    await dockerRotate(log);
    await appendLines(log, docker, 120, 10);
    const second = await run(dockerSource(), saved);
    const text = await until(second, (t) => requests(t) === 30, '30 requests');
    expectEachOnce(requestsByRoute(text), 100, 30);
    expect(sampleSum(text, 'crm_log_parse_errors_total')).toBe(0);
  });

  it('counts malformed wrapper lines as invalid_wrapper parse errors and goes on', async () => {
    const log = join(dir, 'containers/abc/abc-json.log');
    await mkdir(join(dir, 'containers/abc'), { recursive: true });
    await writeFile(log, `not json\n${dockerRecords(accessLine(0))}{"log":5}\n${dockerRecords(accessLine(1))}`);
    const r = await run(dockerSource());
    const text = await until(r, (t) => requests(t) === 2, '2 requests');
    expect(sampleSum(text, 'crm_log_parse_errors_total', { reason: 'invalid_wrapper' })).toBe(2);
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(4);
  });
});

describe('bounds', () => {
  it('follows at most max_files files; a skipped file is logged, counted once, and taken up when one is released', async () => {
    for (const pod of ['a', 'b', 'c']) await appendLines(join(dir, `pods/crm_crm-${pod}_u/crm/0.log`), cri, 0, 1);
    const r = await run(source({ max_files: 2, max_routes: 10 }));
    let text = await until(r, (t) => requests(t) === 2, '2 files read');
    await r.p.rescan();
    text = await r.registry.metrics();
    expect(sampleSum(text, 'crm_log_files')).toBe(2);
    expect(sampleSum(text, 'crm_log_files_skipped_total')).toBe(1);
    expect(r.logged.filter((l) => l.includes('max_files'))).toHaveLength(1);
    await rm(join(dir, 'pods/crm_crm-a_u'), { recursive: true });
    text = await until(r, (t) => requests(t) === 3, 'the skipped file taken up');
    expect(sampleSum(text, 'crm_log_files')).toBe(2);
  });

  it('caps distinct values per path label: further files count under __other__', async () => {
    for (const pod of ['a', 'b', 'c']) await appendLines(join(dir, `pods/crm_crm-${pod}_u/crm/0.log`), cri, 0, 1);
    const r = await run(
      source({ path_labels: '/pods/(?<namespace>[^_]+)_(?<pod>[^_]+)_', max_path_label_values: 2, max_routes: 10 }),
    );
    const text = await until(r, (t) => requests(t) === 3, '3 requests');
    expect(requests(text, { namespace: 'crm', pod: 'crm-a' })).toBe(1);
    expect(requests(text, { namespace: 'crm', pod: 'crm-b' })).toBe(1);
    expect(requests(text, { namespace: 'crm', pod: '__other__' })).toBe(1);
    expect(sampleSum(text, 'crm_log_path_labels_overflow_files_total')).toBe(1);
  });

  it('removes the series of a pod whose files were all released (after retainMs), freeing its label value', async () => {
    for (const pod of ['a', 'b']) await appendLines(join(dir, `pods/crm_crm-${pod}_u/crm/0.log`), cri, 0, 1);
    const r = await run(
      source({ path_labels: '/pods/(?<namespace>[^_]+)_(?<pod>[^_]+)_', max_path_label_values: 2, max_routes: 10 }),
      undefined,
      0,
    );
    await until(r, (t) => requests(t) === 2, '2 requests');
    await rm(join(dir, 'pods/crm_crm-a_u'), { recursive: true });
    let text = await until(r, (t) => requests(t, { pod: 'crm-a' }) === 0, 'the series of pod a removed');
    expect(sampleSum(text, 'crm_log_lines_total', { pod: 'crm-a' })).toBe(0);
    await appendLines(join(dir, 'pods/crm_crm-c_u/crm/0.log'), cri, 0, 1);
    text = await until(r, (t) => requests(t, { pod: 'crm-c' }) === 1, 'pod c with its own value');
    expect(requests(text, { pod: '__other__' })).toBe(0);
    expect(requests(text, { namespace: 'crm', pod: 'crm-b' })).toBe(1);
    expect(sampleSum(text, 'crm_log_path_labels_overflow_files_total')).toBe(0);
  });

  it('keeps the series of a released pod while retainMs has not passed', async () => {
    await appendLines(join(dir, 'pods/crm_crm-a_u/crm/0.log'), cri, 0, 1);
    await appendLines(join(dir, 'pods/crm_crm-b_u/crm/0.log'), cri, 1, 1);
    const r = await run(source({ path_labels: '/pods/[^_]+_(?<pod>[^_]+)_', max_routes: 10 }));
    await until(r, (t) => requests(t) === 2, '2 requests');
    await rm(join(dir, 'pods/crm_crm-a_u'), { recursive: true });
    const text = await until(r, () => r.released.length === 1, 'pod a released');
    expect(requests(text, { pod: 'crm-a' })).toBe(1);
  });
});
