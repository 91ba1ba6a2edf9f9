import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/*
 * The built exporter CLI (bin/crm-exporter.js, so `npm run build` first) as a process of its own, for what the test
 * runner cannot do to itself: stop it with SIGSTOP (a descheduled exporter), SIGKILL it (a crash), run it as another
 * user (so permission bits bind), read every line it logs.
 */
const bin = fileURLToPath(new URL('../../bin/crm-exporter.js', import.meta.url));

export interface ExporterChild {
  readonly url: string;
  readonly pid: number;
  /** Its log lines (stderr) so far. */
  lines(): string[];
  /** SIGSTOP, resolved once every thread of the process is stopped (so no read of it is still in flight). */
  pause(): Promise<void>;
  resume(): void;
  /** SIGTERM (a clean shutdown), then waits for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash: nothing runs after it), then waits until the process is gone. */
  kill(): Promise<void>;
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

export async function startExporterChild(
  configFile: string,
  opts: { uid?: number; gid?: number } = {},
): Promise<ExporterChild> {
  const child: ChildProcess = spawn(process.execPath, [bin, '--config', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(opts.uid !== undefined && { uid: opts.uid }),
    ...(opts.gid !== undefined && { gid: opts.gid }),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`crm-exporter did not listen within 20 s: ${stderr}`)), 20_000);
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (!m) return;
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      resolve(m[1] as string);
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`crm-exporter exited ${code}: ${stderr}`));
    });
  });
  const pid = child.pid as number;
  return {
    url,
    pid,
    lines: () => stderr.split('\n').filter((l) => l !== ''),
    async pause() {
      child.kill('SIGSTOP');
      for (let i = 0; i < 500 && !(await allThreadsStopped(pid)); i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      if (!(await allThreadsStopped(pid))) throw new Error(`crm-exporter ${pid} did not stop`);
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
