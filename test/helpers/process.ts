import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * A child process a test starts and must stop: Prometheus, Alertmanager, the built CRM and exporter. Start-up
 * waits for a readiness check (an HTTP endpoint, usually); a process that exits first fails with its output.
 */

export interface RunningProcess {
  readonly child: ChildProcess;
  /** The last 64 KiB of stdout and stderr, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Named in error messages. */
  name: string;
  env?: NodeJS.ProcessEnv;
  /** True once the process serves; thrown errors count as "not yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

const KEEP = 64 * 1024;

/** GET `url` answers 2xx. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.body?.cancel();
  return res.ok;
}

export async function startProcess(command: string, args: string[], options: StartOptions): Promise<RunningProcess> {
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));

  let stopping: Promise<void> | undefined;
  const handle: RunningProcess = {
    child,
    output: () => output,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
    if (await options.ready().catch(() => false)) return handle;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${options.name} not ready within ${(options.readyTimeoutMs ?? 30_000) / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
}
