/**
 * A scrape-time collector (docs/ARCHITECTURE.md). The orchestrator calls `update` once per scrape, concurrently with
 * the other collectors, and owns their health metrics: no collector reports its own success or duration.
 *
 * Contract:
 * - `update(signal)` gathers everything first, then writes its metrics in one synchronous step, and only when
 *   `signal.aborted` is still false: a run that missed its deadline must never overwrite newer state late.
 *   It rejects when the source could not be read (the orchestrator then records success 0).
 * - `reset()` is called after a failed or timed-out update: remove every series the collector owns (no stale
 *   values) and set its `*_up` gauge, if it has one, to 0.
 * - `close()` releases connections at shutdown.
 */
export interface Collector {
  readonly name: string;
  update(signal: AbortSignal): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}
