import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runLoad, type LoadSummary } from '../../src/loadgen/runner.js';
import { startCrmService, type CrmService } from '../../src/crm/service.js';
import { silentLogger } from '../../src/crm/log.js';
import { startPrivateInstance, type PrivateInstance } from '../helpers/postgres.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { startExporter, type ExporterProcess } from '../helpers/programs.js';
import { sampleSum } from '../helpers/exposition.js';

/*
 * Issue 11 B4: dependencies failing under load. The reference CRM (in this process) runs on a PRIVATE PostgreSQL and
 * a PRIVATE Redis this file starts on free ports, under steady load from the load generator; the built exporter
 * tails its access log and samples the same PostgreSQL and Redis. One fault per test, each while the load runs:
 * PostgreSQL restarted, Redis killed and restarted, the log directory made unreadable (while the log rotates), and
 * the positions file's file system full (a 256 KiB tmpfs). Every time the exporter must keep answering /metrics,
 * show the problem in a metric, log it in exactly one line, recover without a restart, and still count every request
 * the load generator completed, status by status.
 *
 * The exporter runs as `nobody`: tests run as root, and permission bits do not stop root, so this is what makes
 * `chmod 000` on the log directory bind (a rename of the directory would not: the tailer reads the file through the
 * descriptor it holds, and a path that is merely missing is not an error).
 */
const exec = promisify(execFile);
const NOBODY = 65_534;

let dir: string;
let logs: string;
let state: string;
let mounted = false;
let pg: PrivateInstance | undefined;
let redis: PrivateRedis | undefined;
let crm: CrmService | undefined;
let exporter: ExporterProcess;
/** Every response the load generator received over all tests, by status. */
const completed: Record<string, number> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-faults-'));
  await chmod(dir, 0o755);
  logs = join(dir, 'logs');
  state = join(dir, 'state');
  await mkdir(logs, { mode: 0o755 });
  await mkdir(state);
  await exec('mount', ['-t', 'tmpfs', '-o', `size=256k,mode=0755,uid=${NOBODY},gid=${NOBODY}`, 'crm-faults', state]);
  mounted = true;
  pg = await startPrivateInstance();
  redis = await PrivateRedis.start();
  crm = await startCrmService({
    databaseUrl: pg.url('crm'),
    createDatabase: true,
    redisUrl: redis.url,
    port: 0,
    accessLog: join(logs, 'access.log'),
    log: silentLogger,
    shutdownTimeoutMs: 2_000,
  });
  const config = join(dir, 'exporter.yaml');
  await writeFile(
    config,
    [
      'listen: "127.0.0.1:0"',
      `positions_file: ${join(state, 'positions.json')}`,
      'positions_interval: 200ms',
      'logs:',
      `  - { name: crm, path: ${join(logs, 'access.log')}, format: json, start_at: beginning, poll_interval: 200ms }`,
      `postgres: { url: "${pg.url('postgres')}", timeout: 2s }`,
      `redis: { url: "${redis.url}", timeout: 2s }`,
      '',
    ].join('\n'),
  );
  await chown(config, NOBODY, NOBODY);
  exporter = await startExporter(config, { uid: NOBODY, gid: NOBODY });
}, 90_000);

afterAll(async () => {
  await exporter?.stop();
  await crm?.close();
  await redis?.stop();
  await pg?.destroy();
  if (mounted) await exec('umount', [state]).catch(() => exec('umount', ['-l', state]));
  await rm(dir, { recursive: true, force: true });
}, 60_000);

interface Scrape {
  status: number;
  text: string;
}

async function scrape(): Promise<Scrape> {
  const res = await fetch(`${exporter.url}/metrics`, {
    headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '5' },
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, text: await res.text() };
}

/** Scrapes until `check` holds on a scrape (every one must answer 200); returns that scrape. */
async function scrapeUntil(what: string, check: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, text } = await scrape();
    expect(status, 'every scrape answers').toBe(200);
    if (check(text)) return text;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last scrape:\n${text
          .split('\n')
          .filter((l) => /^crm_(pg_up|redis_up|scrape|log_file|positions|log_lines)/.test(l))
          .join('\n')}\nexporter log:\n${exporter.lines().join('\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs steady load for `ms` while `fault` runs; adds what completed to `completed`. */
async function underLoad(ms: number, fault: () => Promise<void>): Promise<LoadSummary> {
  const load = runLoad({ url: crm!.url, durationMs: ms, rate: 25, scenario: 'steady', requestTimeoutMs: 30_000 });
  const [summary] = await Promise.all([load, fault()]);
  expect(summary.networkErrors).toBe(0);
  expect(summary.dropped).toBe(0);
  for (const [status, n] of Object.entries(summary.byStatus)) completed[status] = (completed[status] ?? 0) + n;
  return summary;
}

/** After the load: the exporter counts every completed request, status by status, every line once. */
async function expectEveryRequestCounted(): Promise<void> {
  const total = Object.values(completed).reduce((a, b) => a + b, 0);
  const text = await scrapeUntil(`${total} requests counted`, (t) => sampleSum(t, 'crm_http_requests_total') === total);
  const counted = Object.fromEntries(
    Object.keys(completed).map((s) => [s, sampleSum(text, 'crm_http_requests_total', { status: s })]),
  );
  expect(counted).toEqual(completed);
  expect(sampleSum(text, 'crm_log_lines_total')).toBe(total);
  expect(sampleSum(text, 'crm_log_parse_errors_total')).toBe(0);
}

/** Log lines the exporter wrote since `from` (an index into its lines). */
const linesSince = (from: number): string[] => exporter.lines().slice(from);

describe('dependencies failing under load (issue 11 B4)', () => {
  it('starts healthy', async () => {
    const text = await scrapeUntil(
      'both collectors up',
      (t) => sampleSum(t, 'crm_pg_up') === 1 && sampleSum(t, 'crm_redis_up') === 1,
    );
    expect(sampleSum(text, 'crm_log_file_readable', { log: 'crm' })).toBe(1);
    expect(sampleSum(text, 'crm_positions_write_success')).toBe(1);
  });

  it('PostgreSQL restarted: pg_up 0 and one log line while down, back to 1 without a restart, every request counted', async () => {
    const from = exporter.lines().length;
    await underLoad(6_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await pg!.stop();
      for (let i = 0; i < 3; i++) {
        const text = await scrapeUntil('PostgreSQL seen down', (t) => sampleSum(t, 'crm_pg_up') === 0);
        expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'postgres' })).toBe(0);
        expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(1);
      }
      await pg!.start();
    });
    await scrapeUntil(
      'PostgreSQL back',
      (t) =>
        sampleSum(t, 'crm_pg_up') === 1 &&
        sampleSum(t, 'crm_scrape_collector_success', { collector: 'postgres' }) === 1,
    );
    const lines = linesSince(from);
    expect(
      lines.filter((l) => /postgres/i.test(l) && !/succeeded again/.test(l)),
      lines.join('\n'),
    ).toEqual([expect.stringMatching(/^collector postgres failed: /)]);
    expect(lines.filter((l) => /^collector postgres succeeded again after \d+ failed attempts?$/.test(l))).toHaveLength(
      1,
    );
    await expectEveryRequestCounted();
  }, 90_000);

  it('Redis killed and restarted: redis_up 0 and one log line while down, back to 1, every request counted', async () => {
    const from = exporter.lines().length;
    await underLoad(6_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await redis!.kill();
      for (let i = 0; i < 3; i++) {
        const text = await scrapeUntil('Redis seen down', (t) => sampleSum(t, 'crm_redis_up') === 0);
        expect(sampleSum(text, 'crm_scrape_collector_success', { collector: 'redis' })).toBe(0);
        expect(sampleSum(text, 'crm_pg_up')).toBe(1);
      }
      await redis!.restart();
    });
    await scrapeUntil('Redis back', (t) => sampleSum(t, 'crm_redis_up') === 1);
    const lines = linesSince(from);
    expect(
      lines.filter((l) => /redis/i.test(l) && !/succeeded again/.test(l)),
      lines.join('\n'),
    ).toEqual([expect.stringMatching(/^collector redis failed: /)]);
    expect(lines.filter((l) => /^collector redis succeeded again after \d+ failed attempts?$/.test(l))).toHaveLength(1);
    await expectEveryRequestCounted();
  }, 90_000);

  it('log directory unreadable while the log rotates: file_readable 0 and one log line, the new file read once restored', async () => {
    const from = exporter.lines().length;
    const accessLog = join(logs, 'access.log');
    await underLoad(6_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await chmod(logs, 0o000);
      try {
        // logrotate-style rename + create while the exporter cannot look into the directory
        await rename(accessLog, `${accessLog}.1`);
        await crm!.reopenAccessLog();
        const text = await scrapeUntil(
          'the log reported unreadable',
          (t) => sampleSum(t, 'crm_log_file_readable', { log: 'crm' }) === 0,
        );
        expect(sampleSum(text, 'crm_log_file_errors_total', { log: 'crm' })).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // many passes meet the problem: still one line
      } finally {
        await chmod(logs, 0o755);
      }
    });
    const text = await scrapeUntil(
      'the log readable again',
      (t) => sampleSum(t, 'crm_log_file_readable', { log: 'crm' }) === 1,
    );
    expect(sampleSum(text, 'crm_log_file_errors_total', { log: 'crm' })).toBe(1);
    const lines = linesSince(from);
    expect(
      lines.filter((l) => l.startsWith('log ')),
      lines.join('\n'),
    ).toEqual([expect.stringMatching(/^log crm \(.*access\.log\): .*EACCES/)]);
    await expectEveryRequestCounted();
  }, 90_000);

  it('positions file system full: write_success 0 and one log line, the old file intact, writes resume when space is back', async () => {
    const from = exporter.lines().length;
    const positions = join(state, 'positions.json');
    const filler = join(state, 'filler');
    await underLoad(6_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const fh = await open(filler, 'w');
      try {
        const block = Buffer.alloc(4096, 0x78);
        for (let i = 0; i < 1_000; i++) await fh.write(block); // 4 MB into 256 KiB: stops at ENOSPC long before
        throw new Error('the tmpfs did not fill up');
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ENOSPC') throw err;
      } finally {
        await fh.close();
      }
      const text = await scrapeUntil(
        'the positions write failing',
        (t) => sampleSum(t, 'crm_positions_write_success') === 0,
      );
      expect(sampleSum(text, 'crm_positions_write_errors_total')).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // several intervals fail: still one line
      expect(JSON.parse(await readFile(positions, 'utf8'))).toMatchObject({
        version: 1,
        positions: { crm: { offset: expect.any(Number) } },
      });
      await unlink(filler);
    });
    const text = await scrapeUntil('positions written again', (t) => sampleSum(t, 'crm_positions_write_success') === 1);
    expect(sampleSum(text, 'crm_positions_write_errors_total')).toBeGreaterThan(1);
    const lines = linesSince(from);
    expect(
      lines.filter((l) => l.startsWith('positions:')),
      lines.join('\n'),
    ).toEqual([
      expect.stringMatching(/^positions: cannot write .*positions\.json: ENOSPC/),
      expect.stringMatching(/^positions: writing .*positions\.json works again after \d+ failed attempts$/),
    ]);
    await expectEveryRequestCounted();
    // what is written after the recovery is current: a scrape that counted the whole log is saved
    const log = await stat(join(logs, 'access.log'));
    await expect
      .poll(
        async () => {
          await scrape();
          return (
            JSON.parse(await readFile(positions, 'utf8')) as { positions: { crm: { inode: number; offset: number } } }
          ).positions.crm;
        },
        { timeout: 10_000 },
      )
      .toMatchObject({ inode: log.ino, offset: log.size });
    console.info(`dependency faults: completed by status ${JSON.stringify(completed)}`);
  }, 90_000);
});
