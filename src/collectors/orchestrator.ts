import { Gauge, type Registry } from 'prom-client';
import { CollectorTimeoutError, redactSecrets } from '../errors.js';
import type { Collector } from './collector.js';

export interface OrchestratorOptions {
  registry: Registry;
  collectors: readonly Collector[];
  /** Where failures are reported, one line each (the default writes to stderr). */
  log?: (message: string) => void;
}

/**
 * Runs every collector concurrently under one deadline and records their duration and success.
 * Concurrent scrapes share the run in flight, so a burst of scrapes costs one round of queries.
 */
export class CollectorOrchestrator {
  private readonly collectors: readonly Collector[];
  private readonly duration: Gauge<'collector'>;
  private readonly success: Gauge<'collector'>;
  private readonly log: (message: string) => void;
  private inFlight: Promise<void> | undefined;

  constructor(options: OrchestratorOptions) {
    this.collectors = options.collectors;
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
    this.duration = new Gauge({
      name: 'crm_scrape_collector_duration_seconds',
      help: 'Wall time the collector took during the last scrape, in seconds.',
      labelNames: ['collector'],
      registers: [options.registry],
    });
    this.success = new Gauge({
      name: 'crm_scrape_collector_success',
      help: 'Whether the collector succeeded during the last scrape (1) or failed or timed out (0).',
      labelNames: ['collector'],
      registers: [options.registry],
    });
  }

  get names(): string[] {
    return this.collectors.map((c) => c.name);
  }

  /** Runs all collectors, resolving no later than `deadlineMs` from now. Never rejects. */
  run(deadlineMs: number): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const run = this.runAll(deadlineMs).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async runAll(deadlineMs: number): Promise<void> {
    await Promise.allSettled(this.collectors.map((collector) => this.runOne(collector, deadlineMs)));
  }

  private async runOne(collector: Collector, deadlineMs: number): Promise<void> {
    const controller = new AbortController();
    const started = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new CollectorTimeoutError(collector.name, deadlineMs);
        controller.abort(err);
        reject(err);
      }, deadlineMs);
    });
    let ok = false;
    try {
      // The update promise may settle after the deadline; its rejection is still observed here, never unhandled.
      const update = collector.update(controller.signal);
      update.catch(() => undefined);
      await Promise.race([update, timeout]);
      ok = true;
    } catch (err) {
      if (!controller.signal.aborted) controller.abort(err);
      const message = err instanceof Error ? err.message : String(err);
      this.log(`collector ${collector.name} failed: ${redactSecrets(message)}`);
      try {
        collector.reset();
      } catch (resetErr) {
        this.log(`collector ${collector.name} reset failed: ${redactSecrets(String(resetErr))}`);
      }
    } finally {
      clearTimeout(timer);
    }
    this.duration.set({ collector: collector.name }, Number(process.hrtime.bigint() - started) / 1e9);
    this.success.set({ collector: collector.name }, ok ? 1 : 0);
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
