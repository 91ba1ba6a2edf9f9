import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnExporter, startExporter } from '../helpers/programs.js';
import type { RunningProcess } from '../helpers/process.js';

/*
 * The built CLI (npm test builds first) when its environment is hostile (issue 11): a FIFO at the log path must not
 * keep it from listening or from stopping on SIGTERM (A4); a port in use must stop it with a non-zero exit before it
 * reads any log, leaving the positions file as it was (A7).
 */
let dir: string;
const children: RunningProcess[] = [];
const fifos: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-cli-fail-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  // an exporter that opened the FIFO without O_NONBLOCK is stuck on it: a writer releases it (ENXIO when none waits)
  for (const f of fifos.splice(0))
    await open(f, constants.O_WRONLY | constants.O_NONBLOCK).then(
      (fh) => fh.close(),
      () => undefined,
    );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spawnCli(config: string): RunningProcess {
  const cli = spawnExporter(['--config', config]);
  children.push(cli);
  return cli;
}

/** The exit code, or a rejection if the process is still running after `ms`. */
function exitWithin(cli: RunningProcess, ms: number): Promise<number | null> {
  return Promise.race([
    cli.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still running after ${ms} ms: ${cli.stderr()}`)), ms).unref(),
    ),
  ]);
}

function mkfifo(path: string): Promise<void> {
  return new Promise((resolve, reject) => execFile('mkfifo', [path], (err) => (err ? reject(err) : resolve())));
}

describe('crm-exporter process in a hostile environment', () => {
  it('a FIFO at the log path: it listens, shows the source as not-regular, logs it once, and stops on SIGTERM', async () => {
    const log = join(dir, 'fifo.log');
    await mkfifo(log);
    fifos.push(log);
    const config = join(dir, 'fifo.yaml');
    await writeFile(
      config,
      `listen: "127.0.0.1:0"\npositions_file: ${join(dir, 'fifo-positions.json')}\nlogs:\n  - name: crm\n    path: ${log}\n    format: json\n    poll_interval: 50ms\n`,
    );
    const cli = await startExporter(config);
    children.push(cli);
    const url = cli.url;
    await expect
      .poll(async () => (await fetch(url)).text(), { timeout: 5_000 })
      .toMatch(/<td>crm<\/td>.*<td>not-regular<\/td>/s);
    // the tailer test counts reports over exact passes; here: one line, not one per poll or scrape
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect(cli.stderr().match(/is a FIFO, not a regular file/g)).toHaveLength(1);
    cli.child.kill('SIGTERM');
    expect(await exitWithin(cli, 10_000)).toBe(0);
  });

  it('the listen port is in use: it exits non-zero, names the problem, and leaves the positions file untouched', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const log = join(dir, 'busy.log');
      const line = (i: number): string =>
        `{"time":"2026-11-27T08:00:00Z","method":"GET","path":"/api/customers/${i}","status":200,"duration_ms":5,"bytes":10}\n`;
      const lines = Array.from({ length: 100 }, (_, i) => line(i));
      await writeFile(log, lines.join(''));
      const head = (await readFile(log)).subarray(0, 64).toString('base64');
      const offset = Buffer.byteLength(lines.slice(0, 40).join(''));
      const positions = join(dir, 'busy-positions.json');
      const saved = `${JSON.stringify({ version: 1, positions: { crm: { inode: (await stat(log)).ino, offset, head } } }, null, 2)}\n`;
      await writeFile(positions, saved);
      const config = join(dir, 'busy.yaml');
      await writeFile(
        config,
        `listen: "127.0.0.1:${port}"\npositions_file: ${positions}\npositions_interval: 100ms\nlogs:\n  - name: crm\n    path: ${log}\n    format: json\n    poll_interval: 50ms\n`,
      );
      const cli = spawnCli(config);
      expect(await exitWithin(cli, 10_000)).toBe(1);
      expect(cli.stderr()).toContain(`listen: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(cli.stderr()).not.toContain('listening on');
      expect(await readFile(positions, 'utf8')).toBe(saved);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
