import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/*
 * The built reference CRM (bin/crm-service.js, so `npm run build` first) as a process of its own: what logrotate's
 * postrotate `kill -HUP` can signal without touching the test runner.
 */
const bin = fileURLToPath(new URL('../../bin/crm-service.js', import.meta.url));

export interface CrmChild {
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote on stderr so far (its operational log). */
  stderr(): string;
  /** SIGTERM (graceful: flushes the access log), then waits for the exit. */
  stop(): Promise<number | null>;
}

export async function startCrmChild(args: {
  databaseUrl: string;
  redisUrl: string;
  accessLog: string;
  redisPrefix: string;
  extra?: string[];
}): Promise<CrmChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      '--database-url',
      args.databaseUrl,
      '--redis-url',
      args.redisUrl,
      '--port',
      '0',
      '--access-log',
      args.accessLog,
      '--redis-prefix',
      args.redisPrefix,
      ...(args.extra ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`crm-service did not start within 20 s: ${stderr}`)), 20_000);
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
      reject(new Error(`crm-service exited ${code}: ${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid as number,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
