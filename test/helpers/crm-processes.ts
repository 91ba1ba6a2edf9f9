import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { createTestDatabase, deleteKeys, newRedisClient, randomPrefix, REDIS_URL, type TestDatabase } from './crm.js';
import { freePort } from './net.js';
import { httpOk, startProcess } from './process.js';

/*
 * The built programs as users run them (npm test builds dist/ first): the reference CRM on its own database and
 * Redis key prefix, and the exporter tailing the CRM's access log and probing its /healthz. Each stop() cleans up
 * what its start created.
 */

const CRM_BIN = fileURLToPath(new URL('../../bin/crm-service.js', import.meta.url));
const EXPORTER_BIN = fileURLToPath(new URL('../../bin/crm-exporter.js', import.meta.url));

export interface CrmProcess {
  url: string;
  adminToken: string;
  accessLog: string;
  db: TestDatabase;
  redisPrefix: string;
  stop(): Promise<void>;
}

/** The CRM in `dir` (its access log goes there) with a fresh database and Redis prefix, dropped on stop. */
export async function startCrmProcess(dir: string): Promise<CrmProcess> {
  const db = await createTestDatabase();
  const redis = await newRedisClient();
  const redisPrefix = randomPrefix();
  const adminToken = randomBytes(12).toString('hex');
  const accessLog = join(dir, 'crm-access.log');
  const cleanup = async (): Promise<void> => {
    await deleteKeys(redis, redisPrefix);
    redis.disconnect();
    await db.drop();
  };
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL,
      HOST: '127.0.0.1',
      PORT: String(port),
      ACCESS_LOG: accessLog,
      REDIS_PREFIX: redisPrefix,
      CRM_ADMIN_TOKEN: adminToken,
    };
    const proc = await startProcess(process.execPath, [CRM_BIN, 'serve'], {
      name: 'crm-service',
      env,
      ready: () => httpOk(`${url}/healthz`),
    });
    return {
      url,
      adminToken,
      accessLog,
      db,
      redisPrefix,
      async stop() {
        await proc.stop();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export interface ExporterOptions {
  /** Also sample the CRM's PostgreSQL database and Redis (its key prefix only). Default true. */
  databases?: boolean;
}

export interface ExporterProcess {
  url: string;
  /** `host:port`, for a scrape config. */
  address: string;
  stop(): Promise<void>;
}

/** crm-exporter with its config in `dir`: log `crm` is the CRM's access log, probe on its /healthz. */
export async function startExporterProcess(
  dir: string,
  crm: CrmProcess,
  options: ExporterOptions = {},
): Promise<ExporterProcess> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = {
    listen: address,
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
  const url = `http://${address}`;
  const proc = await startProcess(process.execPath, [EXPORTER_BIN, '--config', file], {
    name: 'crm-exporter',
    ready: () => httpOk(`${url}/healthz`),
  });
  return { url, address, stop: () => proc.stop() };
}
