import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { AccessLogEntry } from '../../src/crm/access-log.js';
import { silentLogger } from '../../src/crm/log.js';
import { startCrmService, type CrmService, type CrmServiceOptions } from '../../src/crm/service.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { deleteKeys, newRedisClient, randomPrefix, REDIS_URL } from './redis-server.js';
import { eventually } from './wait.js';

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  // Tests inspect arbitrary JSON bodies.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface Harness {
  svc: CrmService;
  db: TestDatabase;
  redis: Redis;
  prefix: string;
  logPath: string;
  dir: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  /** Access-log lines, waiting until the line of `requestId` (when given) has been written. */
  log(requestId?: string): Promise<AccessLogEntry[]>;
  entry(requestId: string): Promise<AccessLogEntry>;
  stop(): Promise<void>;
}

export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

export async function readLog(path: string): Promise<AccessLogEntry[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as AccessLogEntry);
}

/** Own database, own Redis key prefix, own access log: safe to run beside other test files. */
export async function startHarness(overrides: Partial<CrmServiceOptions> = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const redis = await newRedisClient(overrides.redisUrl ?? REDIS_URL);
  const prefix = randomPrefix();
  const dir = await mkdtemp(join(tmpdir(), 'crm-test-'));
  const logPath = join(dir, 'access.log');
  let svc: CrmService;
  try {
    svc = await startCrmService({
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      port: 0,
      accessLog: logPath,
      redisPrefix: prefix,
      log: silentLogger,
      shutdownTimeoutMs: 2_000,
      ...overrides,
    });
  } catch (err) {
    redis.disconnect();
    await db.drop();
    throw err;
  }
  const log = async (requestId?: string): Promise<AccessLogEntry[]> => {
    if (requestId === undefined) return readLog(logPath);
    return eventually(async () => {
      const entries = await readLog(logPath);
      return entries.some((e) => e.request_id === requestId) ? entries : undefined;
    }, `access-log line of ${requestId}`);
  };
  return {
    svc,
    db,
    redis,
    prefix,
    logPath,
    dir,
    request: (method, path, body, headers) => request(svc.url, method, path, body, headers),
    log,
    async entry(requestId) {
      const entries = await log(requestId);
      return entries.find((e) => e.request_id === requestId)!;
    },
    async stop() {
      await svc.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
