import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleSum } from '../helpers/exposition.js';
import { startExporter } from '../helpers/programs.js';

/*
 * The built CLI as users run it (npm test builds first): start, count, SIGTERM with positions flushed and exit 0,
 * then a restart that counts exactly the lines written while it was down.
 */
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (i: number, status = 200): string =>
  `${JSON.stringify({ time: '2026-11-27T08:00:00Z', method: 'GET', path: `/api/customers/${i}`, route: '/api/customers/:id', status, duration_ms: 5, bytes: 100 })}\n`;

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('crm-exporter process', () => {
  it('flushes positions on SIGTERM and counts lines written while down exactly once after a restart', async () => {
    const log = join(dir, 'access.log');
    const positions = join(dir, 'positions.json');
    const config = join(dir, 'config.yaml');
    await writeFile(log, Array.from({ length: 100 }, (_, i) => line(i)).join(''));
    await writeFile(
      config,
      `listen: "127.0.0.1:0"\npositions_file: ${positions}\nlogs:\n  - name: crm\n    path: ${log}\n    format: json\n    start_at: beginning\n    poll_interval: 200ms\n`,
    );

    const first = await startExporter(config);
    await expect
      .poll(async () => sampleSum(await metrics(first.url), 'crm_http_requests_total'), { timeout: 15_000 })
      .toBe(100);
    expect(await first.stop()).toBe(0);
    const saved = JSON.parse(await readFile(positions, 'utf8')) as { positions: Record<string, { offset: number }> };
    expect(saved.positions.crm?.offset).toBe((await readFile(log)).length);

    await appendFile(log, Array.from({ length: 50 }, (_, i) => line(1000 + i, 503)).join(''));
    const second = await startExporter(config);
    await expect
      .poll(async () => sampleSum(await metrics(second.url), 'crm_http_requests_total'), { timeout: 15_000 })
      .toBe(50);
    const text = await metrics(second.url);
    expect(sampleSum(text, 'crm_http_requests_total', { status: '503' })).toBe(50);
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(50);
    expect(await second.stop()).toBe(0);
  });
});
