/**
 * bench:crm — the reference CRM and its load generator on this machine, in one run:
 *   1. GET /api/customers/:id with the Redis cache on, then off (cache_bypass fault);
 *   2. GET /api/customers?age=N&limit=20 with customers_age_idx, then without it (EXPLAIN shown for both).
 * The service runs in its own process (bin/crm-service.js); the load generator runs here.
 * Writes the results under "## bench:crm" in bench/RESULTS.md.
 *
 *   npm run bench:crm        (BENCH_CUSTOMERS=100000 BENCH_SECONDS=10 BENCH_CONCURRENCY=8 BENCH_PG_URL=... BENCH_REDIS_URL=...)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/net.js';
import { deleteKeys } from '../test/helpers/redis-server.js';
import { writeResultsSection } from './results-file.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { AccessLogEntry } from '../src/crm/access-log.js';
import { migrate } from '../src/crm/db/migrate.js';
import { AGE_PAGE_SQL } from '../src/crm/repositories/customers.js';
import { seed } from '../src/crm/seed.js';
import { runLoad, type LoadSummary } from '../src/loadgen/runner.js';
import type { Mix } from '../src/loadgen/operations.js';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WARMUP_MS = 2_000;
const HOT_IDS = 1_000;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const say = (s: string): void => void process.stderr.write(`bench:crm: ${s}\n`);

interface CaseResult {
  name: string;
  summary: LoadSummary;
  serverP50: number;
  dbMs: number;
  cacheMs: number | undefined;
  hitRatio: number | undefined;
}

async function readLog(path: string): Promise<AccessLogEntry[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AccessLogEntry);
}

/** The access-log lines after `from`, once `count` more have been written. */
async function linesAfter(path: string, from: number, count: number): Promise<AccessLogEntry[]> {
  for (let i = 0; i < 400; i++) {
    const entries = await readLog(path);
    if (entries.length >= from + count) return entries.slice(from, from + count);
    await sleep(25);
  }
  throw new Error(`access log never reached ${from + count} lines`);
}

const percentile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

async function explain(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${AGE_PAGE_SQL}`, [42, 0, 42, 21]);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const dbName = `crm_bench_${randomBytes(4).toString('hex')}`;
  const prefix = `crmbench:${randomBytes(4).toString('hex')}:`;
  const token = randomBytes(16).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'crm-bench-'));
  const logPath = join(dir, 'access.log');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE template0`);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 4 });
  const redis = new Redis(REDIS_URL);
  let child: ChildProcess | undefined;
  try {
    await migrate(pool);
    say(`seeding ${CUSTOMERS} customers into ${dbName}`);
    const seeded = await seed(pool, { customers: CUSTOMERS, users: 0 });
    say(`seeded in ${(seeded.ms / 1000).toFixed(2)} s`);
    const { rows: idRows } = await pool.query<{ id: string }>('SELECT id FROM customers ORDER BY random() LIMIT $1', [
      HOT_IDS,
    ]);
    const ids = idRows.map((r) => Number(r.id));

    const port = await freePort();
    child = spawn(process.execPath, [join(repoRoot, 'bin/crm-service.js'), 'serve'], {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl.toString(),
        REDIS_URL,
        PORT: String(port),
        ACCESS_LOG: logPath,
        REDIS_PREFIX: prefix,
        CRM_ADMIN_TOKEN: token,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 200 || child.exitCode !== null) throw new Error('the service did not become ready');
      await sleep(50);
    }
    const setFaults = async (faults: object | null): Promise<void> => {
      const res = await fetch(`${url}/admin/faults`, {
        method: faults ? 'PUT' : 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: faults ? JSON.stringify(faults) : undefined,
      });
      if (!res.ok) throw new Error(`admin/faults answered ${res.status}`);
    };

    const results: CaseResult[] = [];
    const measure = async (name: string, mix: Mix): Promise<void> => {
      const opts = { url, concurrency: CONCURRENCY, mix, customerIds: ids, hotShare: 0 };
      await runLoad({ ...opts, durationMs: WARMUP_MS });
      const from = (await readLog(logPath)).length;
      say(`${name}: ${SECONDS} s at concurrency ${CONCURRENCY}`);
      const summary = await runLoad({ ...opts, durationMs: SECONDS * 1000 });
      const lines = await linesAfter(logPath, from, summary.sent);
      const cacheLines = lines.filter((l) => l.cache !== undefined);
      results.push({
        name,
        summary,
        serverP50: percentile(
          lines.map((l) => l.duration_ms),
          0.5,
        ),
        dbMs: mean(lines.map((l) => l.db_ms)),
        cacheMs: cacheLines.length > 0 ? mean(lines.map((l) => l.cache_ms ?? 0)) : undefined,
        hitRatio:
          cacheLines.length > 0 ? cacheLines.filter((l) => l.cache === 'hit').length / cacheLines.length : undefined,
      });
      const l = summary.load;
      say(
        `  ${l.rps.toFixed(0)} req/s  p50 ${l.latency.p50} ms  p95 ${l.latency.p95} ms  p99 ${l.latency.p99} ms  (statuses ${JSON.stringify(summary.byStatus)})`,
      );
    };

    // Touch every id once so the cache-on case measures hits, not the warm-up's misses.
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let id = queue.pop(); id !== undefined; id = queue.pop())
          await fetch(`${url}/api/customers/${id}`).then((r) => r.arrayBuffer());
      }),
    );
    await measure('GET /api/customers/:id, cache on', { getCustomer: 1 });
    await setFaults({ cache_bypass: true });
    await measure('GET /api/customers/:id, cache off', { getCustomer: 1 });
    await setFaults(null);

    const planWith = await explain(pool);
    await measure('GET /api/customers?age=N&limit=20, with customers_age_idx', { searchExactAge: 1 });
    await pool.query('DROP INDEX customers_age_idx');
    await pool.query('ANALYZE customers');
    const planWithout = await explain(pool);
    await measure('GET /api/customers?age=N&limit=20, without the index', { searchExactAge: 1 });
    await pool.query('CREATE INDEX customers_age_idx ON customers (age, id)');

    const versions = await pool.query<{ server_version: string }>('SHOW server_version');
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    const [cached, uncached, indexed, unindexed] = results as [CaseResult, CaseResult, CaseResult, CaseResult];
    const speedup = (a: CaseResult, b: CaseResult): string =>
      `${(b.summary.load.latency.p50 / a.summary.load.latency.p50).toFixed(2)}× lower p50, ${(a.summary.load.rps / b.summary.load.rps).toFixed(2)}× the throughput`;
    const f = (x: number | undefined, digits = 2): string => (x === undefined ? '–' : x.toFixed(digits));
    const section = [
      `Command: \`npm run bench:crm\` (= \`npm run build && node dist/bench/crm.js\`; BENCH_CUSTOMERS=${CUSTOMERS} BENCH_SECONDS=${SECONDS} BENCH_CONCURRENCY=${CONCURRENCY}).`,
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length} cores (shared with other work: 1-min load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end), Node ${process.version}, PostgreSQL ${versions.rows[0]!.server_version}, Redis ${redisVersion}.`,
      `${CUSTOMERS.toLocaleString('en')} customers seeded in ${(seeded.ms / 1000).toFixed(2)} s. The service runs in its own process (bin/crm-service.js, access log to a file); crm-loadgen's runner drives it from the bench process: closed model, ${CONCURRENCY} clients, ${WARMUP_MS / 1000} s warm-up then ${SECONDS} s per case (every read id is fetched once before the cache-on case), reads spread over ${HOT_IDS} random customers, exact-age searches over random ages 18–90.`,
      'Client latencies from the load generator; server columns from the access log of the same requests.',
      '',
      '| case | requests/s | p50 ms | p95 ms | p99 ms | server p50 duration_ms | mean db_ms | mean cache_ms | cache hits |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...results.map((r) => {
        const l = r.summary.load;
        return `| ${r.name} | ${l.rps.toFixed(0)} | ${f(l.latency.p50)} | ${f(l.latency.p95)} | ${f(l.latency.p99)} | ${f(r.serverP50, 3)} | ${f(r.dbMs, 3)} | ${f(r.cacheMs, 3)} | ${r.hitRatio === undefined ? '–' : `${(r.hitRatio * 100).toFixed(1)}%`} |`;
      }),
      '',
      `Cache on vs off: ${speedup(cached, uncached)}. Index vs no index: ${speedup(indexed, unindexed)}.`,
      '',
      'EXPLAIN of the age search (`age = 42`, first page) with the index:',
      '',
      '```',
      planWith,
      '```',
      '',
      'and after `DROP INDEX customers_age_idx`:',
      '',
      '```',
      planWithout,
      '```',
      '',
    ].join('\n');
    writeResultsSection('bench:crm', section);
    process.stdout.write(`## bench:crm\n\n${section}\n`);
    if (!/Index (Only )?Scan using customers_age_idx|Bitmap Index Scan on customers_age_idx/.test(planWith))
      throw new Error('EXPLAIN does not use customers_age_idx');
    if (!(cached.summary.load.latency.p50 < uncached.summary.load.latency.p50)) {
      say('the cached read was NOT faster than the uncached one');
      process.exitCode = 1;
    }
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:crm failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
