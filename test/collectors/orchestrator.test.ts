import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Collector } from '../../src/exporter/collectors/collector.js';
import { defineFamily, registerFamily } from '../../src/exporter/exposition/family.js';
import { CollectorOrchestrator, scrapeDeadlineMs } from '../../src/exporter/collectors/orchestrator.js';

/**
 * A collector whose behaviour each test scripts: resolve, reject, or hang until released. Its snapshot is a number,
 * served as test_<name>_value while the orchestrator serves it.
 */
function scripted(name: string, registry: Registry, behaviour: 'ok' | 'fail' | 'hang') {
  let calls = 0;
  let lateWrite = false;
  let finished = false;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const collector: Collector<number> & {
    calls: () => number;
    lateWrite: () => boolean;
    finished: () => boolean;
    release: () => void;
  } = {
    name,
    served: undefined,
    calls: () => calls,
    lateWrite: () => lateWrite,
    finished: () => finished,
    release,
    async update(signal) {
      calls += 1;
      if (behaviour === 'fail') throw new Error(`boom from postgres://user:s3cret@db/x`);
      if (behaviour === 'hang') {
        // Ignores the abort on purpose (a driver that cannot cancel) and finishes only when the test says so.
        await released;
        if (signal.aborted) lateWrite = true;
        finished = true;
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 42;
    },
    async close() {},
  };
  registerFamily(
    registry,
    defineFamily({ name: `test_${name}_value`, help: 'test value', type: 'gauge', labelNames: [] }),
    (emit) => {
      if (collector.served !== undefined) emit(collector.served);
    },
  );
  return collector;
}

describe('CollectorOrchestrator', () => {
  it('logs one line when a collector starts failing, however many scrapes fail, and one when it recovers', async () => {
    const registry = new Registry();
    const logs: string[] = [];
    let mode: 'ok' | 'refused' | 'auth' = 'refused';
    const flaky: Collector = {
      name: 'flaky',
      served: undefined,
      async update() {
        if (mode === 'refused') throw new Error('connect ECONNREFUSED 127.0.0.1:5');
        if (mode === 'auth') throw new Error('password authentication failed');
        return 'snapshot';
      },
      async close() {},
    };
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [flaky], log: (m) => logs.push(m) });
    for (let i = 0; i < 5; i++) expect((await orchestrator.run(1000))[0]?.ok).toBe(false);
    mode = 'auth'; // a different error within the same outage is not a new line either: the gauge says it failed
    expect((await orchestrator.run(1000))[0]?.ok).toBe(false);
    expect(logs).toEqual([
      'collector flaky failed: connect ECONNREFUSED 127.0.0.1:5 (further failures are not logged until it succeeds again)',
    ]);
    mode = 'ok';
    expect((await orchestrator.run(1000))[0]?.ok).toBe(true);
    expect((await orchestrator.run(1000))[0]?.ok).toBe(true);
    expect(logs.slice(1)).toEqual(['collector flaky succeeded again after 6 failed attempts']);
    mode = 'refused'; // the next outage is news again
    await orchestrator.run(1000);
    await orchestrator.run(1000);
    expect(logs).toHaveLength(3);
    expect(logs[2]).toMatch(/^collector flaky failed: connect ECONNREFUSED/);
    expect(await registry.metrics()).toContain('crm_scrape_collector_success{collector="flaky"} 0');
  });

  it('records success and duration per collector and keeps failures isolated', async () => {
    const registry = new Registry();
    const logs: string[] = [];
    const good = scripted('good', registry, 'ok');
    const bad = scripted('bad', registry, 'fail');
    const slow = scripted('slow', registry, 'hang');
    const orchestrator = new CollectorOrchestrator({
      registry,
      collectors: [good, bad, slow],
      log: (m) => logs.push(m),
    });
    await orchestrator.run(100);
    expect(slow.finished()).toBe(false); // returned at the deadline, not when the slow one finished
    const text = await registry.metrics();
    expect(text).toContain('crm_scrape_collector_success{collector="good"} 1');
    expect(text).toContain('crm_scrape_collector_success{collector="bad"} 0');
    expect(text).toContain('crm_scrape_collector_success{collector="slow"} 0');
    expect(text).toContain('test_good_value 42');
    expect(text).toMatch(/crm_scrape_collector_duration_seconds\{collector="good"\} 0\.\d+/);
    expect(logs.join('\n')).toContain('collector bad failed');
    expect(logs.join('\n')).not.toContain('s3cret');
    expect(logs.join('\n')).toContain(
      'collector slow failed: collector slow did not finish within 100 ms (further failures are not logged until it succeeds again)',
    );
    // The timed-out collector sees the abort and does not write after the deadline.
    slow.release();
    await expect.poll(() => slow.finished()).toBe(true);
    expect(slow.lateWrite()).toBe(true);
    expect(await registry.metrics()).not.toContain('test_slow_value 1');
  });

  it('serves the snapshot of the last successful update, and nothing after a failed or timed-out one', async () => {
    const registry = new Registry();
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    let value = 0;
    let release: () => void = () => undefined;
    const c: Collector<number> = {
      name: 'c',
      served: undefined,
      async update() {
        if (mode === 'fail') throw new Error('refused');
        if (mode === 'hang') await new Promise<void>((resolve) => (release = resolve));
        return ++value;
      },
      async close() {},
    };
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [c], log: () => undefined });
    await orchestrator.run(1000);
    expect(c.served).toBe(1);
    mode = 'fail';
    await orchestrator.run(1000);
    expect(c.served).toBeUndefined();
    mode = 'ok';
    await orchestrator.run(1000);
    expect(c.served).toBe(2);
    mode = 'hang';
    await orchestrator.run(50);
    expect(c.served).toBeUndefined(); // a timed-out scrape serves none of the old snapshot
    release();
    await expect.poll(() => value).toBe(3);
    expect(c.served).toBeUndefined(); // the abandoned update's snapshot is never served
  });

  it('shares one in-flight run between concurrent scrapes', async () => {
    const registry = new Registry();
    const good = scripted('good', registry, 'ok');
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [good], log: () => undefined });
    await Promise.all([orchestrator.run(1000), orchestrator.run(1000), orchestrator.run(1000)]);
    expect(good.calls()).toBe(1);
    await orchestrator.run(1000);
    expect(good.calls()).toBe(2);
  });

  it('concurrent scrapes share the round but each waits only until its own deadline, with its own outcomes', async () => {
    const registry = new Registry();
    const logs: string[] = [];
    const good = scripted('good', registry, 'ok');
    const slow = scripted('slow', registry, 'hang');
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [good, slow], log: (m) => logs.push(m) });
    const long = orchestrator.run(60_000);
    const short = orchestrator.run(150);
    // on the shared-deadline code the short scrape waited for the long one's deadline (or for the slow collector)
    const shortOutcomes = await Promise.race([
      short,
      new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 5_000)),
    ]);
    expect(slow.finished()).toBe(false);
    expect(shortOutcomes).toEqual([
      { name: 'good', ok: true, seconds: expect.any(Number) },
      { name: 'slow', ok: false, seconds: expect.any(Number) },
    ]);
    expect(logs).toEqual([
      'collector slow failed: collector slow did not finish within 150 ms (further failures are not logged until it succeeds again)',
    ]);
    expect(await registry.metrics()).toContain('crm_scrape_collector_success{collector="slow"} 0');

    // the long scrape keeps waiting, and the slow collector was not aborted for it
    slow.release();
    const longOutcomes = await long;
    expect(longOutcomes.map((o) => [o.name, o.ok])).toEqual([
      ['good', true],
      ['slow', true],
    ]);
    expect(slow.lateWrite()).toBe(false);
    const text = await registry.metrics();
    expect(text).toContain('crm_scrape_collector_success{collector="slow"} 1');
    expect(text).toContain('test_slow_value 1');
    expect([good.calls(), slow.calls()]).toEqual([1, 1]); // one round of queries for both scrapes
    expect(logs).toEqual([
      'collector slow failed: collector slow did not finish within 150 ms (further failures are not logged until it succeeds again)',
      'collector slow succeeded again after 1 failed attempt',
    ]);
  });

  it('a scrape that joins a round gives up at its own deadline even when it is shorter than the first one', async () => {
    const registry = new Registry();
    const slow = scripted('slow', registry, 'hang');
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [slow], log: () => undefined });
    const first = orchestrator.run(100);
    const second = orchestrator.run(60_000);
    expect((await first)[0]?.ok).toBe(false);
    // the first scrape gave up, but the second still waits: the update is not aborted
    slow.release();
    expect((await second)[0]?.ok).toBe(true);
    expect(slow.lateWrite()).toBe(false);
  });

  it('the health families serve the last published scrape’s outcomes, and no sample before the first', async () => {
    const registry = new Registry();
    const good = scripted('good', registry, 'ok');
    const orchestrator = new CollectorOrchestrator({ registry, collectors: [good], log: () => undefined });
    const samples = async () => (await registry.metrics()).split('\n').filter((l) => l.startsWith('crm_scrape_'));
    expect(await samples()).toEqual([]);
    orchestrator.publish([{ name: 'good', ok: false, seconds: 0.25 }]);
    orchestrator.publish([{ name: 'good', ok: true, seconds: 0.5 }]);
    expect(await samples()).toEqual([
      'crm_scrape_collector_duration_seconds{collector="good"} 0.5',
      'crm_scrape_collector_success{collector="good"} 1',
    ]);
  });

  it('derives the deadline from Prometheus’s header, capped and with a margin', () => {
    const opts = { default_timeout: 10_000, max_timeout: 30_000, margin: 500 };
    expect(scrapeDeadlineMs(undefined, opts)).toBe(9_500);
    expect(scrapeDeadlineMs('4', opts)).toBe(3_500);
    expect(scrapeDeadlineMs('0.25', opts)).toBe(100);
    expect(scrapeDeadlineMs('120', opts)).toBe(29_500);
    expect(scrapeDeadlineMs('garbage', opts)).toBe(9_500);
  });
});
