import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadSummary } from '../../src/loadgen/runner.js';
import { startHarness, type Harness } from '../helpers/crm.js';
import { eventually } from '../helpers/wait.js';

const TOKEN = 'loadgen-test-token';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ adminToken: TOKEN });
});
afterAll(async () => {
  await h?.stop();
});

/** The statuses of the access-log lines written after line `from`, once there are `count` of them (and no more). */
async function loggedSince(from: number, count: number): Promise<Record<number, number>> {
  const entries = await eventually(
    async () => {
      const e = await h.log();
      return e.length >= from + count ? e : undefined;
    },
    `${from + count} access-log lines`,
  );
  expect(entries.length).toBe(from + count);
  const counts: Record<number, number> = {};
  for (const e of entries.slice(from)) counts[e.status] = (counts[e.status] ?? 0) + 1;
  return counts;
}

function sumStatuses(s: LoadSummary): number {
  return Object.values(s.byStatus).reduce((a, b) => a + b, 0);
}

describe('runLoad', () => {
  let linesBefore = 0;

  it('runs the steady mix and reports exactly what the service logged, by status', async () => {
    linesBefore = (await h.log()).length;
    const progress: number[] = [];
    const summary = await runLoad({
      url: h.svc.url,
      durationMs: 2_000,
      concurrency: 2,
      progressIntervalMs: 500,
      onProgress: (p) => progress.push(p.elapsedS),
    });
    expect(summary.networkErrors).toBe(0);
    expect(summary.sent).toBe(sumStatuses(summary));
    expect(summary.load.requests).toBeGreaterThan(0);
    expect(summary.byStatus[200]).toBeGreaterThan(0);
    expect(summary.byOperation.setup!.requests).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(await loggedSince(linesBefore, summary.sent)).toEqual(summary.byStatus);
    linesBefore += summary.sent;
  });

  it('error-burst switches 500s on and off through the admin API, counting the admin calls', async () => {
    const summary = await runLoad({
      url: h.svc.url,
      durationMs: 2_000,
      concurrency: 2,
      scenario: 'error-burst',
      adminToken: TOKEN,
      mix: { getCustomer: 1, rankings: 1 },
    });
    expect(summary.byStatus[500]).toBeGreaterThan(0);
    expect(summary.phases.map((p) => p.label)).toEqual(['error burst', 'recovered']);
    // GET check, PUT on, DELETE off, final DELETE.
    expect(summary.byOperation.admin).toMatchObject({ requests: 4, byStatus: { 200: 4 } });
    expect(await loggedSince(linesBefore, summary.sent)).toEqual(summary.byStatus);
    expect((await h.request('GET', '/admin/faults', undefined, { authorization: `Bearer ${TOKEN}` })).body.active).toBe(
      false,
    );
    linesBefore += 1;
    linesBefore += summary.sent;
  });

  it('paces an open-model rate', async () => {
    const summary = await runLoad({
      url: h.svc.url,
      durationMs: 1_000,
      rate: 40,
      mix: { rankings: 1 },
      customerIds: [1],
    });
    expect(summary.load.requests).toBeGreaterThan(0);
    expect(summary.load.requests).toBeLessThanOrEqual(41);
    expect(summary.dropped).toBe(0);
    expect(summary.byOperation.setup).toBeUndefined();
  });

  it('refuses a fault scenario without the admin token, before sending anything', async () => {
    await expect(runLoad({ url: h.svc.url, durationMs: 1_000, scenario: 'latency' })).rejects.toThrow(/admin token/);
    await expect(
      runLoad({ url: h.svc.url, durationMs: 1_000, scenario: 'latency', adminToken: 'wrong' }),
    ).rejects.toThrow(/admin endpoint answered 401/);
  });

  it('reports a service it cannot reach', async () => {
    await expect(runLoad({ url: 'http://127.0.0.1:1', durationMs: 500 })).rejects.toThrow(/cannot reach the CRM/);
  });
});
