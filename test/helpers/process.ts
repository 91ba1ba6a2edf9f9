import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * A child process a test starts and must stop: Prometheus, Alertmanager, the built CRM and exporter. The one place
 * that spawns them: output kept for failure messages, every stderr line kept (the programs' log, which tests read),
 * stop/kill/pause/resume. startProcess() waits for a readiness check; a process that exits first fails with its
 * output.
 */

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (null when a signal ended it) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** The last 64 KiB of stdout and stderr, for failure messages. */
  output(): string;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** Its stderr lines so far (the exporter's and the CRM's operational log). */
  lines(): string[];
  /**
   * SIGCONT (in case it is paused) and SIGTERM, then SIGKILL when it has not exited within `graceMs`; resolves
   * with the exit code (null when killed by a signal). Idempotent.
   */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL (a crash: nothing runs after it), then waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP, resolved once every thread of the process is stopped (so no read of it is still in flight). */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): void;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (the test runner must be root). */
  uid?: number;
  gid?: number;
}

export interface StartOptions extends SpawnOptions {
  /** Named in error messages. */
  name: string;
  /** True once the process serves; thrown errors count as "not yet". */
  ready: (proc: RunningProcess) => Promise<boolean>;
  readyTimeoutMs?: number;
}

const KEEP = 64 * 1024;

/** GET `url` answers 2xx. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.body?.cancel();
  return res.ok;
}

/** The URL a program logged as `listening on URL` (the exporter and the CRM both do), or undefined. */
export function listeningUrl(proc: RunningProcess): string | undefined {
  return /listening on (https?:\/\/\S+)/.exec(proc.stderr())?.[1];
}

async function allThreadsStopped(pid: number): Promise<boolean> {
  const tasks = await readdir(`/proc/${pid}/task`);
  for (const task of tasks) {
    const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== 'T' && state !== 't' && stat !== '') return false;
  }
  return true;
}

/** Starts a process without waiting for anything (for a program expected to exit, or watched step by step). */
export function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): RunningProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined && { uid: options.uid }),
    ...(options.gid !== undefined && { gid: options.gid }),
  });
  let output = '';
  let stderr = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    keep(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));
  const running = (): boolean => child.exitCode === null && child.signalCode === null && child.pid !== undefined;

  let stopping: Promise<number | null> | undefined;
  const pid = child.pid ?? -1;
  return {
    child,
    pid,
    exited,
    output: () => output,
    stderr: () => stderr,
    lines: () => stderr.split('\n').filter((l) => l !== ''),
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (!running()) return child.exitCode;
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
    async pause() {
      child.kill('SIGSTOP');
      for (let i = 0; i < 500 && !(await allThreadsStopped(pid)); i++) await sleep(10);
      if (!(await allThreadsStopped(pid))) throw new Error(`process ${pid} did not stop`);
    },
    resume() {
      child.kill('SIGCONT');
    },
  };
}

/** Starts a process and waits until `ready`; stops it and throws (with its output) if it exits or times out first. */
export async function startProcess(command: string, args: string[], options: StartOptions): Promise<RunningProcess> {
  const proc = spawnProcess(command, args, options);
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(
        `${options.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before it was ready:\n${proc.output()}`,
      );
    if (await options.ready(proc).catch(() => false)) return proc;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${options.name} not ready within ${timeoutMs / 1000} s:\n${proc.output()}`);
    }
    await sleep(50);
  }
}
