import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient, type Response } from './client.js';
import { chooser, learn, plan, Targets, type Mix, type OperationName, type PlannedRequest } from './operations.js';
import { Recorder, type OperationSummary } from './recorder.js';
import { SCENARIOS, type Phase, type ScenarioName } from './scenarios.js';
import type { LatencySummary } from './stats.js';

export interface LoadOptions {
  url: string;
  durationMs: number;
  /** Open model: this many arrivals per second, whatever the latency. */
  rate?: number;
  /** Closed model: this many clients sending back to back. Used when `rate` is not set. Default 8. */
  concurrency?: number;
  scenario?: ScenarioName;
  /** Replaces the scenario's operation mix. */
  mix?: Mix;
  /** Needed by every scenario that injects faults. */
  adminToken?: string;
  /** Customer ids to use instead of discovering them (and creating some when there are too few). */
  customerIds?: number[];
  /** Share of reads that go to the hottest 20% of customers. Default 0.8. */
  hotShare?: number;
  /** Users created for password changes. Default 3. */
  users?: number;
  requestTimeoutMs?: number;
  /** Rate mode: arrivals beyond this many requests in flight are dropped (and counted). Default 256. */
  maxInFlight?: number;
  progressIntervalMs?: number;
  onProgress?: (p: Progress) => void;
  onPhase?: (label: string, elapsedS: number) => void;
  signal?: AbortSignal;
}

export interface Progress {
  elapsedS: number;
  rps: number;
  latency: LatencySummary;
  byStatus: Record<number, number>;
  networkErrors: number;
  phase: string;
}

export interface LoadSummary {
  url: string;
  scenario: ScenarioName;
  /** Wall time of the load phase (after setup). */
  durationS: number;
  /** Every request sent, setup and admin calls included: sum(byStatus) + networkErrors. */
  sent: number;
  /** Every HTTP response by status, exactly: what the service's access log should show for this run. */
  byStatus: Record<number, number>;
  /** Requests without an HTTP response (connection error, client timeout). */
  networkErrors: number;
  /** Rate mode: arrivals not sent because maxInFlight requests were outstanding. */
  dropped: number;
  /** Scenario traffic only (no setup, no admin). */
  load: { requests: number; rps: number; errors5xx: number; errors4xx: number; latency: LatencySummary };
  byOperation: Record<string, OperationSummary>;
  phases: { label: string; atS: number }[];
}

class Run {
  readonly rec = new Recorder();
  readonly client: HttpClient;
  readonly targets = new Targets(randomBytes(4).toString('hex'));
  private readonly inFlight = new Set<Promise<void>>();
  dropped = 0;
  phase = 'steady';

  constructor(readonly opts: LoadOptions) {
    this.client = new HttpClient(
      opts.url,
      opts.requestTimeoutMs ?? 10_000,
      Math.max(opts.concurrency ?? 8, opts.maxInFlight ?? 256),
    );
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  /** One request, recorded whatever happens. */
  async send(
    op: string,
    req: PlannedRequest,
    load: boolean,
    headers?: Record<string, string>,
  ): Promise<Response | undefined> {
    const t0 = performance.now();
    try {
      const res = await this.client.send(req.method, req.path, req.body, headers);
      this.rec.record(op, res.status, performance.now() - t0, load);
      return res;
    } catch {
      this.rec.record(op, undefined, performance.now() - t0, load);
      return undefined;
    }
  }

  track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  admin(method: PlannedRequest['method'], path: string, body?: unknown): Promise<Response | undefined> {
    return this.send('admin', { method, path, body }, false, { authorization: `Bearer ${this.opts.adminToken ?? ''}` });
  }
}

async function setup(run: Run, mix: Mix): Promise<void> {
  const { opts, targets } = run;
  if (opts.customerIds && opts.customerIds.length > 0) {
    targets.customers.push(...opts.customerIds);
  } else {
    const found = await run.send('setup', { method: 'GET', path: '/api/customers?limit=500' }, false);
    if (!found) throw new Error(`cannot reach the CRM at ${opts.url}`);
    if (found.status !== 200)
      throw new Error(`GET /api/customers answered ${found.status}; is ${opts.url} the CRM service?`);
    targets.customers.push(...(JSON.parse(found.body) as { items: { id: number }[] }).items.map((c) => c.id));
    for (let i = targets.customers.length; i < 20; i++) {
      const req = plan('createCustomer', targets)!;
      const res = await run.send('setup', req, false);
      if (res) learn('createCustomer', res.status, res.body, targets);
    }
    targets.own.length = 0; // customers made for setup stay; only ones created under load get deleted
  }
  // Shuffle so that the hot set is not just the oldest customers.
  for (let i = targets.customers.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [targets.customers[i], targets.customers[j]] = [targets.customers[j]!, targets.customers[i]!];
  }
  if ((mix.changePassword ?? 0) > 0) {
    for (let i = 0; i < (opts.users ?? 3); i++) {
      const res = await run.send(
        'setup',
        {
          method: 'POST',
          path: '/api/users',
          body: {
            email: `load.${targets.runTag}.user${i}@example.com`,
            password: randomBytes(12).toString('base64url'),
          },
        },
        false,
      );
      if (res?.status === 201) targets.users.push((JSON.parse(res.body) as { id: number }).id);
    }
  }
}

async function applyPhase(run: Run, p: Phase, remainingS: number): Promise<void> {
  run.phase = p.label;
  if (p.flushCache) await run.admin('POST', '/admin/cache/flush');
  // duration_s: the service switches the faults off by itself should this process die.
  if (p.faults) await run.admin('PUT', '/admin/faults', { ...p.faults, duration_s: Math.ceil(remainingS) + 30 });
  else await run.admin('DELETE', '/admin/faults');
}

/**
 * Drives the CRM for `durationMs` with the scenario's mix and fault phases, and returns exact counts. Every
 * request it sends is in `byStatus` (or `networkErrors`), including setup and admin calls.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const scenarioName = opts.scenario ?? 'steady';
  const scenario = SCENARIOS[scenarioName];
  if (!scenario) throw new Error(`unknown scenario "${String(scenarioName)}"`);
  const phases: Phase[] = scenario.phases;
  if (phases.length > 0 && !opts.adminToken)
    throw new Error(
      `scenario ${scenarioName} injects faults: give the service's admin token (--admin-token or CRM_ADMIN_TOKEN)`,
    );
  if (opts.rate !== undefined && !(opts.rate > 0)) throw new Error('rate must be positive');
  const mix = opts.mix ?? scenario.mix;
  const choose = chooser(mix);
  const run = new Run(opts);
  run.targets.hotShare = opts.hotShare ?? 0.8;
  run.targets.passwordUsers = 'passwordUsers' in scenario ? scenario.passwordUsers : 0;
  const applied: { label: string; atS: number }[] = [];
  const timers: NodeJS.Timeout[] = [];
  const adminCalls: Promise<void>[] = [];
  let progressTimer: NodeJS.Timeout | undefined;
  let faultsCleared = false;
  try {
    if (phases.length > 0) {
      const check = await run.admin('GET', '/admin/faults');
      if (check?.status !== 200)
        throw new Error(
          `the admin endpoint answered ${check?.status ?? 'nothing'}: is CRM_ADMIN_TOKEN set on the service, and the same token given here?`,
        );
    }
    await setup(run, mix);

    const started = performance.now();
    const end = started + opts.durationMs;
    const elapsedS = (): number => (performance.now() - started) / 1000;
    for (const p of phases) {
      const t = setTimeout(() => {
        applied.push({ label: p.label, atS: elapsedS() });
        opts.onPhase?.(p.label, elapsedS());
        adminCalls.push(applyPhase(run, p, (end - performance.now()) / 1000));
      }, p.at * opts.durationMs);
      timers.push(t);
    }
    if (opts.onProgress) {
      let last = started;
      progressTimer = setInterval(() => {
        const now = performance.now();
        const w = run.rec.takeWindow();
        opts.onProgress!({
          elapsedS: elapsedS(),
          rps: w.statuses.responses / ((now - last) / 1000),
          latency: w.latency.summary(),
          byStatus: w.statuses.byStatus,
          networkErrors: w.statuses.networkErrors,
          phase: run.phase,
        });
        last = now;
      }, opts.progressIntervalMs ?? 5_000);
    }

    const fire = (): Promise<void> => {
      let op: OperationName = choose();
      let req = plan(op, run.targets);
      if (!req) {
        op = run.targets.customers.length > 0 ? 'getCustomer' : 'listCustomers';
        req = plan(op, run.targets)!;
      }
      const chosen = op;
      return run.send(chosen, req, true).then((res) => {
        if (res) learn(chosen, res.status, res.body, run.targets);
      });
    };
    const stopped = (): boolean => performance.now() >= end || opts.signal?.aborted === true;

    if (opts.rate !== undefined) {
      const maxInFlight = opts.maxInFlight ?? 256;
      let issued = 0;
      while (!stopped()) {
        const due = Math.floor(((performance.now() - started) / 1000) * opts.rate);
        for (; issued < due; issued++) {
          if (run.outstanding >= maxInFlight) run.dropped++;
          else run.track(fire());
        }
        await sleep(Math.max(1, Math.min(50, ((issued + 1) / opts.rate) * 1000 - (performance.now() - started))));
      }
    } else {
      const worker = async (): Promise<void> => {
        while (!stopped()) await fire();
      };
      await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
    }
    const durationS = elapsedS();
    for (const t of timers) clearTimeout(t);
    await run.drain();
    await Promise.all(adminCalls);
    if (applied.length > 0) await run.admin('DELETE', '/admin/faults');
    faultsCleared = true;

    const load = run.rec.load;
    return {
      url: opts.url,
      scenario: scenarioName,
      durationS,
      sent: run.rec.sent,
      byStatus: { ...run.rec.all.byStatus },
      networkErrors: run.rec.all.networkErrors,
      dropped: run.dropped,
      load: {
        requests: load.statuses.responses + load.statuses.networkErrors,
        rps: load.statuses.responses / durationS,
        errors5xx: load.statuses.count((s) => s >= 500),
        errors4xx: load.statuses.count((s) => s >= 400 && s < 500),
        latency: load.latency.summary(),
      },
      byOperation: run.rec.byOperation(),
      phases: applied,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    if (progressTimer) clearInterval(progressTimer);
    // Failed half-way: do not leave faults switched on behind us.
    if (applied.length > 0 && !faultsCleared) await run.admin('DELETE', '/admin/faults');
    run.client.close();
  }
}
