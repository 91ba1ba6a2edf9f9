import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { registerPositionsHealth } from '../../src/exporter/logs/positions-health.js';
import { PositionsWriter } from '../../src/exporter/sources/positions.js';
import { sampleSum } from '../helpers/exposition.js';

/*
 * A positions file that cannot be written for a while (disk full, permissions; here a file where its directory
 * should be): one warning per episode, not one per interval, the failures counted for crm_positions_write_*, and
 * the next write after the cause is gone succeeds without a restart. test/e2e/dependency-faults.test.ts fills a
 * real tmpfs.
 */
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-positions-fail-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PositionsWriter when writes fail', () => {
  it('warns once per episode, counts every failure, and recovers on its own', async () => {
    const parent = join(dir, 'state');
    await writeFile(parent, 'a file where the directory should be');
    const warnings: string[] = [];
    let offset = 0;
    const w = new PositionsWriter(
      join(parent, 'positions.json'),
      60_000,
      () => ({ a: { inode: 1, offset: ++offset, head: '' } }),
      (m) => warnings.push(m),
    );
    const registry = new Registry();
    registerPositionsHealth(registry, w);
    expect(sampleSum(await registry.metrics(), 'crm_positions_write_success')).toBe(1);

    for (let i = 0; i < 5; i++) await w.served(w.snapshot());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^cannot write .*positions\.json: .*further failures are not logged until a write succeeds/,
    );
    let text = await registry.metrics();
    expect(sampleSum(text, 'crm_positions_write_success')).toBe(0);
    expect(sampleSum(text, 'crm_positions_write_errors_total')).toBe(5);

    await unlink(parent);
    await mkdir(parent);
    await w.flush(); // the retry (every positions_interval once started) writes the last served snapshot
    expect(warnings.slice(1)).toEqual([
      `writing ${join(parent, 'positions.json')} works again after 5 failed attempts`,
    ]);
    expect(JSON.parse(await readFile(join(parent, 'positions.json'), 'utf8'))).toMatchObject({
      positions: { a: { offset } },
    });
    text = await registry.metrics();
    expect(sampleSum(text, 'crm_positions_write_success')).toBe(1);
    expect(sampleSum(text, 'crm_positions_write_errors_total')).toBe(5);
    await w.flush();
    expect(warnings).toHaveLength(2);
  });
});
