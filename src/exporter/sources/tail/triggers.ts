/**
 * When the tailer looks, and what it says about problems. fs.watch on the file's directory (events for names
 * starting with the file's base name) is the fast trigger, a poll every `pollMs` the safety net (fs.watch misses
 * events, does not work on some filesystems, and cannot watch a directory that does not exist yet). One pass runs at
 * a time; triggers during a pass only request another pass. I/O problems are reported once per distinct problem
 * until a pass is clean again.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { asError, errorCode } from './file.js';

export interface TriggerOptions {
  path: string;
  pollMs: number;
  /** use fs.watch as the fast trigger */
  watch: boolean;
  /** one pass; resolves to true when everything available was read */
  cycle: () => Promise<boolean>;
  onError: ((err: Error) => void) | undefined;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Triggers {
  private readonly o: TriggerOptions;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wakeRequested = false;
  private _stopped = false;
  private cycleWaiters: Array<(caughtUp: boolean) => void> = [];
  private lastErrorKey: string | undefined;
  private reportedThisCycle = false;
  private _problemsReported = 0;

  constructor(o: TriggerOptions) {
    this.o = o;
  }

  get stopped(): boolean {
    return this._stopped;
  }
  /** Problems handed to `onError` so far: each distinct problem once, until a clean pass (so one per log line). */
  get problemsReported(): number {
    return this._problemsReported;
  }
  /** Whether the last pass met no I/O problem. */
  get clean(): boolean {
    return this.lastErrorKey === undefined;
  }

  /** Starts watching (start(), before the first open). */
  arm(): void {
    this.ensureWatch();
  }

  /** Starts the poll and runs a first pass. */
  startPolling(): void {
    this.timer = setInterval(() => this.schedule(), this.o.pollMs);
    this.schedule();
  }

  /** Called by a pass that stopped before the end (its budget): another pass follows. */
  again(): void {
    this.wakeRequested = true;
  }

  /** Stops every trigger and waits for a running pass to end. */
  async stop(): Promise<void> {
    this._stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.running) await this.running;
  }

  /** After the tailer closed: releases everyone waiting in caughtUp(). */
  closed(): void {
    for (const w of this.cycleWaiters.splice(0)) w(true);
  }

  /** Resolves after a pass that found nothing left to read (or once stopped). */
  async caughtUp(): Promise<void> {
    for (;;) {
      if (this._stopped) return;
      if (await this.nextCycle()) return;
      await delay(Math.max(1, Math.min(this.o.pollMs, 25)));
    }
  }

  /** Reports an I/O problem once per distinct problem until a pass succeeds again. */
  report(err: unknown): void {
    this.reportedThisCycle = true;
    const e = asError(err);
    const key = `${errorCode(err) ?? ''}:${e.message}`;
    if (key === this.lastErrorKey) return;
    this.lastErrorKey = key;
    this._problemsReported++;
    try {
      this.o.onError?.(e);
    } catch {
      // a throwing error handler must not stop the tailer
    }
  }

  private schedule(): void {
    this.wakeRequested = true;
    if (!this.running && !this._stopped) this.running = this.pump();
  }

  private nextCycle(): Promise<boolean> {
    return new Promise((resolve) => {
      this.cycleWaiters.push(resolve);
      this.schedule();
      if (this._stopped) resolve(true);
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.wakeRequested && !this._stopped) {
        this.wakeRequested = false;
        const waiters = this.cycleWaiters;
        this.cycleWaiters = [];
        let caughtUp = false;
        this.reportedThisCycle = false;
        try {
          if (!this.watcher) this.ensureWatch();
          caughtUp = await this.o.cycle();
        } catch (err) {
          this.report(err);
        }
        if (!this.reportedThisCycle) this.lastErrorKey = undefined; // a clean pass: the next problem is news again
        for (const w of waiters) w(caughtUp);
      }
    } finally {
      this.running = undefined;
    }
  }

  private ensureWatch(): void {
    if (!this.o.watch || this.watcher || this._stopped) return;
    const name = basename(this.o.path);
    try {
      const w = watch(dirname(this.o.path), { persistent: true }, (_event, filename) => {
        if (filename === null || filename === undefined || String(filename).startsWith(name)) this.schedule();
      });
      w.on('error', () => {
        // e.g. the directory was removed: fall back to the poll, re-arm on a later pass
        w.close();
        if (this.watcher === w) this.watcher = undefined;
      });
      this.watcher = w;
    } catch {
      this.watcher = undefined; // directory missing or watch unsupported: the poll covers it
    }
  }
}
