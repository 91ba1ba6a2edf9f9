import type { Registry } from 'prom-client';
import { defineFamily, registerFamily, type Emit, type FamilyDefinition } from '../exposition/family.js';

/**
 * A scrape-time collector (docs/ARCHITECTURE.md). The orchestrator calls `update` once per scrape, concurrently with
 * the other collectors, and owns their health metrics: no collector reports its own success or duration.
 *
 * Contract:
 * - `update(signal)` reads its source and resolves with a snapshot: plain data, nothing served changes. It rejects
 *   when the source could not be read, and issues no further request once `signal` is aborted.
 * - `served` is what the collector's families render at scrape time (see `registerSnapshotFamilies`). The
 *   orchestrator is its only writer: the snapshot of each successful update, or undefined after a failed or
 *   timed-out one. So a collector serves its last successful snapshot or nothing (its `*_up` family then says 0),
 *   and a series that is not in the snapshot (a dropped table) is not served: nothing is ever cleared by hand.
 * - `close()` releases connections at shutdown.
 */
export interface Collector<S = unknown> {
  readonly name: string;
  update(signal: AbortSignal): Promise<S>;
  served: S | undefined;
  close(): Promise<void>;
}

/** A family of a collector, and how its samples are read from (a part of) the collector's snapshot. */
export interface SnapshotFamily<S> {
  readonly def: FamilyDefinition;
  readonly render: (snapshot: S, emit: Emit) => void;
}

export function snapshotFamily<S, const L extends string>(
  def: FamilyDefinition<L>,
  render: (snapshot: S, emit: Emit) => void,
): SnapshotFamily<S> {
  return { def, render };
}

/** One sample: its label values (the family's order) and its value. */
export type Series = [labels: string[], value: number];

const sum = (a: number, b: number): number => a + b;
const last = (_a: number, b: number): number => b;

/**
 * One sample per label set, in first-seen order: what prom-client did when a counter was inc()'d (values summed)
 * or a gauge set() (the last value) twice for the same labels. A source may repeat a label set (two INFO lines that
 * differ only in case, rows that differ only in a column not exported); the exposition must not.
 */
function mergeSeries(entries: Iterable<Series>, combine: (a: number, b: number) => number): Series[] {
  const out = new Map<string, Series>();
  for (const [labels, value] of entries) {
    const key = labels.join('\u0000');
    const seen = out.get(key);
    if (seen) seen[1] = combine(seen[1], value);
    else out.set(key, [labels, value]);
  }
  return [...out.values()];
}

/**
 * A family whose samples `series(snapshot)` lists, merged per label set (mergeSeries): summed for a counter, the
 * last value for a gauge, unless `combine` says otherwise.
 */
export function seriesFamily<S, const L extends string>(
  def: FamilyDefinition<L>,
  series: (snapshot: S) => Iterable<Series>,
  combine: (a: number, b: number) => number = def.type === 'counter' ? sum : last,
): SnapshotFamily<S> {
  return snapshotFamily(defineFamily(def), (snapshot: S, emit) => {
    for (const [labels, value] of mergeSeries(series(snapshot), combine)) emit(value, labels);
  });
}

/**
 * A family with one sample per row: `labels(row)` in the family's label order, `value(row)` its value (a row whose
 * value is undefined has no sample in this family).
 */
export function rowsFamily<R, const L extends string>(
  def: FamilyDefinition<L>,
  labels: (row: R) => string[],
  value: (row: R) => number | undefined,
): SnapshotFamily<readonly R[]> {
  return seriesFamily(def, function* (rows: readonly R[]): Iterable<Series> {
    for (const row of rows) {
      const v = value(row);
      if (v !== undefined) yield [labels(row), v];
    }
  });
}

/** The families of one part of a snapshot (a view's rows), read from the whole snapshot. */
export function focus<S, P>(families: readonly SnapshotFamily<P>[], part: (snapshot: S) => P): SnapshotFamily<S>[] {
  return families.map(({ def, render }) => ({ def, render: (s: S, emit: Emit) => render(part(s), emit) }));
}

/**
 * Registers `families` (registration order is exposition order), each rendering `served()` at scrape time, or
 * nothing while it is undefined. `up`, registered first, renders 1 with a snapshot and 0 without.
 */
export function registerSnapshotFamilies<S>(
  registry: Registry,
  up: FamilyDefinition | undefined,
  families: readonly SnapshotFamily<S>[],
  served: () => S | undefined,
): void {
  if (up) registerFamily(registry, up, (emit) => emit(served() === undefined ? 0 : 1));
  for (const { def, render } of families) {
    registerFamily(registry, def, (emit) => {
      const snapshot = served();
      if (snapshot !== undefined) render(snapshot, emit);
    });
  }
}
