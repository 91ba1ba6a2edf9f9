import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { deleteKeys, newRedisClient, randomPrefix, REDIS_URL } from './redis-server.js';
import { listeningUrl, spawnProcess, startProcess, type RunningProcess, type SpawnOptions } from './process.js';

/*
 * The built programs as users run them (`npm run build` first; npm test does): the reference CRM on its own database
 * and Redis key prefix, and the exporter, each a process of its own, for what the test runner cannot do to itself:
 * signal it (SIGHUP to reopen a log, SIGSTOP for a descheduled exporter, SIGKILL for a crash), run it as another
 * user, read every line it logs. Both listen on port 0 and are ready once they log `listening on URL`.
 */

export const CRM_BIN = fileURLToPath(new URL('../../bin/crm-service.js', import.meta.url));
export const EXPORTER_BIN = fileURLToPath(new URL('../../bin/crm-exporter.js', import.meta.url));

const listening = async (proc: RunningProcess): Promise<boolean> => listeningUrl(proc) !== undefined;

export interface CrmProcess {
  url: string;
  pid: number;
  adminToken: string;
  accessLog: string;
  db: TestDatabase;
  redisPrefix: string;
  /** Its log lines (stderr) so far. */
  lines(): string[];
  /** SIGTERM (graceful: flushes the access log), waits for the exit, drops its database and keys; the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The CRM with a fresh database and Redis prefix (dropped by stop()), writing its access log to `accessLog`
 * (default `dir`/crm-access.log).
 */
export async function startCrmProcess(dir: string, options: { accessLog?: string } = {}): Promise<CrmProcess> {
  const db = await createTestDatabase();
  const redis = await newRedisClient();
  const redisPrefix = randomPrefix();
  const adminToken = randomBytes(12).toString('hex');
  const accessLog = options.accessLog ?? join(dir, 'crm-access.log');
  const cleanup = async (): Promise<void> => {
    await deleteKeys(redis, redisPrefix);
    redis.disconnect();
    await db.drop();
  };
  try {
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL,
      HOST: '127.0.0.1',
      PORT: '0',
      ACCESS_LOG: accessLog,
      REDIS_PREFIX: redisPrefix,
      CRM_ADMIN_TOKEN: adminToken,
    };
    const proc = await startProcess(process.execPath, [CRM_BIN, 'serve'], {
      name: 'crm-service',
      env,
      ready: listening,
    });
    let stopped: Promise<number | null> | undefined;
    return {
      url: listeningUrl(proc)!,
      pid: proc.pid,
      adminToken,
      accessLog,
      db,
      redisPrefix,
      lines: () => proc.lines(),
      stop() {
        stopped ??= (async () => {
          const code = await proc.stop();
          await cleanup();
          return code;
        })();
        return stopped;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export interface ExporterProcess extends RunningProcess {
  url: string;
  /** `host:port`, for a scrape config. */
  address: string;
}

/** The exporter with `--config configFile` (and any further arguments), once it listens. */
export async function startExporter(
  configFile: string,
  options: SpawnOptions & { args?: string[] } = {},
): Promise<ExporterProcess> {
  const proc = await startProcess(process.execPath, [EXPORTER_BIN, '--config', configFile, ...(options.args ?? [])], {
    ...options,
    name: 'crm-exporter',
    ready: listening,
  });
  const url = listeningUrl(proc)!;
  return Object.assign(proc, { url, address: new URL(url).host });
}

/** The exporter started without waiting, for runs that are expected to fail or are watched step by step. */
export function spawnExporter(args: string[], options: SpawnOptions = {}): RunningProcess {
  return spawnProcess(process.execPath, [EXPORTER_BIN, ...args], options);
}

export interface ExporterOptions {
  /** Also sample the CRM's PostgreSQL database and Redis (its key prefix only). Default true. */
  databases?: boolean;
}

/** The exporter with its config in `dir`: log `crm` is the CRM's access log, probe on its /healthz. */
export async function startExporterProcess(
  dir: string,
  crm: CrmProcess,
  options: ExporterOptions = {},
): Promise<ExporterProcess> {
  const config = {
    listen: '127.0.0.1:0',
    positions_file: join(dir, 'positions.json'),
    // Prometheus scrapes every second with a 1 s timeout; keep 200 ms of it for serialising.
    scrape: { margin: '200ms' },
    logs: [
      {
        name: 'crm',
        path: crm.accessLog,
        format: 'json',
        start_at: 'beginning',
        poll_interval: '200ms',
        routes: ['/api/customers/:id', '/api/customers/:id/points', '/api/users/:id/password'],
      },
    ],
    probe: { url: `${crm.url}/healthz`, timeout: '1s' },
    ...(options.databases === false
      ? {}
      : {
          postgres: { url: crm.db.url, databases: [crm.db.name], timeout: '1s' },
          redis: {
            url: REDIS_URL,
            timeout: '1s',
            key_groups: [
              { name: 'cache', pattern: `${crm.redisPrefix}customer:*` },
              { name: 'locks', pattern: `${crm.redisPrefix}lock:*` },
            ],
            key_group_scan_budget: 2000,
          },
        }),
  };
  const file = join(dir, 'crm-exporter.yaml');
  await writeFile(file, yaml.dump(config));
  return startExporter(file);
}
