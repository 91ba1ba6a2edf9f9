import type { Registry } from 'prom-client';
import { CollectorTimeoutError, redactSecrets } from '../errors.js';
import { defineFamily, registerFamily } from '../exposition/family.js';
import type { Collector } from './collector.js';

const DURATION = defineFamily({
  name: 'crm_scrape_collector_duration_seconds',
  help: 'Wall time the collector took during the last scrape, in seconds.',
  type: 'gauge',
  labelNames: ['collector'],
  unit: 'seconds',
});
const SUCCESS = defineFamily({
  name: 'crm_scrape_collector_success',
  help: 'Whether the collector succeeded during the last scrape (1) or failed or timed out (0).',
  type: 'gauge',
  labelNames: ['collector'],
});

export const SCRAPE_COLLECTOR_DURATION = DURATION.name;
export const SCRAPE_COLLECTOR_SUCCESS = SUCCESS.name;

export interface OrchestratorOptions {
  registry: Registry;
  collectors: readonly Collector[];
  /** Where failures are reported, one line each (the default writes to stderr). */
  log?: (message: string) => void;
}

/** How one collector did for one scrape. */
export interface CollectorOutcome {
  name: string;
  ok: boolean;
  seconds: number;
}

/** One collector's update in a round, shared by every scrape that joined the round. */
interface Attempt {
  collector: Collector;
  controller: AbortController;
  started: bigint;
  /** Resolves (never rejects) when the update succeeded (true) or failed or was abandoned (false). */
  settled: Promise<boolean>;
  done: boolean;
  /** Scrapes still waiting for it; the last one to give up abandons it. */
  waiters: number;
  /** Aborts the update and settles it as failed (no-op once settled). */
  abandon: (reason: Error) => void;
}

const secondsSince = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;

/**
 * Runs every collector concurrently, records their duration and success, and decides what each serves: the
 * snapshot of its successful update, or nothing (`served` undefined) after a failure or a timeout (collector.ts).
 * Concurrent scrapes share the round in flight, so a burst of scrapes costs one round of queries; but each scrape
 * waits only until its own deadline and gets its own outcomes: a 2 s scrape never waits behind a 10 s one.
 * A collector is aborted when the last scrape waiting for it gives up.
 */
export class CollectorOrchestrator {
  private readonly collectors: readonly Collector[];
  /** The outcomes of the scrape being served, what the two health families render (none before the first). */
  private published: readonly CollectorOutcome[] = [];
  private readonly log: (message: string) => void;
  private round: Attempt[] | undefined;
  /** Collectors whose last outcome was a failure, with the failed scrapes since the one that was logged. */
  private readonly failing = new Map<string, number>();

  constructor(options: OrchestratorOptions) {
    this.collectors = options.collectors;
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
    registerFamily(options.registry, DURATION, (emit) => {
      for (const o of this.published) emit(o.seconds, [o.name]);
    });
    registerFamily(options.registry, SUCCESS, (emit) => {
      for (const o of this.published) emit(o.ok ? 1 : 0, [o.name]);
    });
  }

  get names(): string[] {
    return this.collectors.map((c) => c.name);
  }

  /**
   * Runs all collectors (or joins the round in flight), resolving no later than `deadlineMs` from now with this
   * caller's outcomes, which are also published to the health families. Never rejects.
   */
  async run(deadlineMs: number): Promise<CollectorOutcome[]> {
    const round = this.round ?? this.startRound();
    const outcomes = await Promise.all(round.map((a) => this.await(a, deadlineMs)));
    this.publish(outcomes);
    return outcomes;
  }

  /**
   * Makes one scrape's outcomes (one per collector, in collector order) what the health families render. The
   * /metrics handler calls it in the same synchronous step that starts serialising (the server's renderers read
   * every family's samples in that step), so concurrent scrapes each serve their own outcomes.
   */
  publish(outcomes: readonly CollectorOutcome[]): void {
    this.published = outcomes;
  }

  private startRound(): Attempt[] {
    const round = this.collectors.map((collector) => this.attempt(collector));
    this.round = round;
    void Promise.all(round.map((a) => a.settled)).then(() => {
      if (this.round === round) this.round = undefined;
    });
    return round;
  }

  private attempt(collector: Collector): Attempt {
    const controller = new AbortController();
    let resolveSettled: (ok: boolean) => void = () => undefined;
    const finish = (ok: boolean): void => {
      if (a.done) return;
      a.done = true;
      resolveSettled(ok);
    };
    const a: Attempt = {
      collector,
      controller,
      started: process.hrtime.bigint(),
      settled: new Promise<boolean>((resolve) => (resolveSettled = resolve)),
      done: false,
      waiters: 0,
      abandon: (reason) => {
        if (a.done) return;
        controller.abort(reason);
        finish(false);
      },
    };
    let update: Promise<unknown>;
    try {
      update = collector.update(controller.signal);
    } catch (err) {
      update = Promise.reject(err);
    }
    // The update may settle after it was abandoned; its rejection is still observed here, never unhandled.
    update.then(
      (snapshot) => {
        if (a.done) return; // abandoned: its snapshot is not served
        collector.served = snapshot;
        finish(true);
      },
      (err: unknown) => {
        if (a.done) return; // abandoned: the scrapes that gave up have said so
        if (!controller.signal.aborted) controller.abort(err);
        this.failed(collector.name, redactSecrets(err instanceof Error ? err.message : String(err)));
        collector.served = undefined;
        finish(false);
      },
    );
    return a;
  }

  /** One scrape waiting for one attempt until its own deadline. */
  private async await(a: Attempt, deadlineMs: number): Promise<CollectorOutcome> {
    const name = a.collector.name;
    a.waiters++;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deadlineMs)));
    const result = await Promise.race([a.settled, timedOut]);
    clearTimeout(timer);
    a.waiters--;
    if (result !== 'timeout') {
      if (result) this.succeeded(name);
      return { name, ok: result, seconds: secondsSince(a.started) };
    }
    const err = new CollectorTimeoutError(name, deadlineMs);
    this.failed(name, err.message);
    a.collector.served = undefined; // this scrape serves none of the collector's series (and its *_up 0)
    if (a.waiters === 0) a.abandon(err);
    return { name, ok: false, seconds: secondsSince(a.started) };
  }

  /**
   * One line when a collector starts failing, not one per scrape: an outage of minutes under 5 s scrapes would
   * otherwise flood the log. The gauges say it every scrape; the line after recovery says how long it lasted.
   */
  private failed(name: string, message: string): void {
    const count = this.failing.get(name);
    this.failing.set(name, (count ?? 0) + 1);
    if (count === undefined)
      this.log(`collector ${name} failed: ${message} (further failures are not logged until it succeeds again)`);
  }

  private succeeded(name: string): void {
    const count = this.failing.get(name);
    if (count === undefined) return;
    this.failing.delete(name);
    this.log(`collector ${name} succeeded again after ${count} failed ${count === 1 ? 'attempt' : 'attempts'}`);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.collectors.map((c) => c.close()));
  }
}

/**
 * The collection deadline for one scrape: Prometheus's own timeout (header) or the configured default,
 * capped, minus a margin to serialise and send the answer.
 */
export function scrapeDeadlineMs(
  header: string | undefined,
  opts: { default_timeout: number; max_timeout: number; margin: number },
): number {
  const fromHeader = header === undefined ? NaN : Number.parseFloat(header) * 1000;
  const base = Number.isFinite(fromHeader) && fromHeader > 0 ? fromHeader : opts.default_timeout;
  return Math.max(100, Math.min(base, opts.max_timeout) - opts.margin);
}
