/**
 * bench:scrape: /metrics latency, series and database load of crm-exporter against the reference exporters.
 *
 *   npm run bench:scrape [-- --section postgres|redis|busy] [--scrapes 200] [--warmup 20] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--write-results]
 *
 * Sections (SECTIONS below) each start what they measure, return a markdown report and say whether their target
 * was met; the process exits 1 when one was not. Add a section by appending { name, run } to SECTIONS (the helpers
 * measureTargets, startChild, freePort, promtoolFindings are exported for that). --write-results replaces each
 * section's own "## <heading>" block in bench/RESULTS.md, leaving the rest of the file alone.
 *
 * postgres: seeds a CRM-like database (users, customers, notes, 101k rows, 9 indexes) in a database of its own,
 * then scrapes our exporter (createApp + the postgres collector, like production) and prometheus-postgres-exporter
 * on the same database, interleaved one for one, and counts the queries each issues per scrape from the
 * database's own pg_stat_database.xact_commit (each autocommit query is one transaction).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/net.js';
import { writeResultsSection } from './results-file.js';
import pg from 'pg';
import { Registry } from 'prom-client';
import { parseConfig } from '../src/exporter/config/load.js';
import { CollectorOrchestrator } from '../src/exporter/collectors/orchestrator.js';
import { PostgresCollector } from '../src/exporter/collectors/postgres/collector.js';
import { registerBuildInfo } from '../src/exporter/metrics/build-info.js';
import { registerRuntimeMetrics } from '../src/exporter/metrics/runtime.js';
import { createApp } from '../src/exporter/server/app.js';
import { redisSection } from './scrape-redis.js';
import { busySection } from './scrape-busy.js';

export interface BenchOptions {
  scrapes: number;
  warmup: number;
  pgUrl: string;
}

export interface ScrapeTarget {
  name: string;
  url: string;
  /** Families of the measured subsystem (crm_pg_, pg_ ...), counted apart from the process/runtime ones. */
  seriesPrefix: string;
}

export interface ScrapeStats {
  name: string;
  scrapes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Sample lines in the last exposition, and those of `seriesPrefix`. */
  series: number;
  subsystemSeries: number;
  /** Lines printed by `promtool check metrics` for the whole body and for the `seriesPrefix` families alone. */
  promtoolFindings: number | undefined;
  subsystemPromtoolFindings: number | undefined;
  lastBody: string;
}

export interface SectionResult {
  /** The RESULTS.md heading (without "## "). */
  heading: string;
  markdown: string;
  targetMet: boolean;
}

export interface BenchSection {
  name: string;
  run(options: BenchOptions): Promise<SectionResult>;
}

export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

async function scrapeOnce(url: string): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '10' } });
  const body = await res.text();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { ms, body };
}

function sampleLines(body: string, prefix = ''): number {
  return body.split('\n').filter((line) => line !== '' && !line.startsWith('#') && line.startsWith(prefix)).length;
}

/** The part of an exposition whose metric names start with `prefix` (HELP/TYPE lines included). */
export function onlyFamilies(body: string, prefix: string): string {
  const keep = body.split('\n').filter((line) => line.replace(/^# (HELP|TYPE) /, '').startsWith(prefix));
  return `${keep.join('\n')}\n`;
}

export function promtoolFindings(body: string): number | undefined {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  if (found.status !== 0) return undefined;
  const result = spawnSync(found.stdout.trim(), ['check', 'metrics'], { input: body, encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim() !== '').length;
}

/** `warmup` then `scrapes` rounds; each round scrapes every target once, in turn, so all see the same noise. */
export async function measureTargets(
  targets: readonly ScrapeTarget[],
  scrapes: number,
  warmup: number,
): Promise<ScrapeStats[]> {
  const times = targets.map(() => [] as number[]);
  const last = targets.map(() => '');
  for (let round = 0; round < warmup + scrapes; round++) {
    for (const [i, target] of targets.entries()) {
      const { ms, body } = await scrapeOnce(target.url);
      if (round >= warmup) times[i]?.push(ms);
      last[i] = body;
    }
  }
  return targets.map((target, i) => {
    const sorted = [...(times[i] ?? [])].sort((a, b) => a - b);
    const body = last[i] ?? '';
    return {
      name: target.name,
      scrapes,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? NaN,
      series: sampleLines(body),
      subsystemSeries: sampleLines(body, target.seriesPrefix),
      promtoolFindings: promtoolFindings(body),
      subsystemPromtoolFindings: promtoolFindings(onlyFamilies(body, target.seriesPrefix)),
      lastBody: body,
    };
  });
}

export { freePort };

/** Starts a program and waits until `readyUrl` answers; stop() ends it (SIGTERM) and waits for its exit. */
export async function startChild(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
): Promise<{ pid: number; stop(): Promise<void>; stderr(): string }> {
  const child: ChildProcess = spawn(binary, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(readyUrl)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${binary} not answering at ${readyUrl} after 15 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid as number, stop, stderr: () => stderr };
}

function binaryPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function maskUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:****@');
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

const SEED_SQL = `
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO users SELECT g, 'user' || g || '@crm.example', 'User ' || g, now() - g * interval '1 hour' FROM generate_series(1, 1000) g;
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, owner_id int NOT NULL REFERENCES users,
                        status text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'customer' || g || '@example.com', 'Customer ' || g, 1 + g % 1000,
       (ARRAY['lead', 'active', 'churned'])[1 + g % 3], now() - g * interval '1 minute' FROM generate_series(1, 40000) g;
CREATE INDEX customers_owner_id_idx ON customers (owner_id);
CREATE INDEX customers_status_idx ON customers (status);
CREATE TABLE notes (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, author_id int NOT NULL REFERENCES users,
                    body text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO notes SELECT g, 1 + g % 40000, 1 + g % 1000, 'Called about the renewal, follow-up ' || g, now() - g * interval '30 seconds'
FROM generate_series(1, 60000) g;
CREATE INDEX notes_customer_id_idx ON notes (customer_id);
CREATE INDEX notes_created_at_idx ON notes (created_at);
`;

/** Some CRM traffic so the statistics are not all zero: lookups by key, a listing, a full scan. */
const TRAFFIC_SQL = [
  "SELECT * FROM customers WHERE email = 'customer42@example.com'",
  'SELECT * FROM notes WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 20',
  "SELECT count(*) FROM customers WHERE name LIKE 'Customer 1%'",
  'SELECT u.name, count(*) FROM notes n JOIN users u ON u.id = n.author_id GROUP BY u.name ORDER BY 2 DESC LIMIT 5',
  "UPDATE customers SET status = 'active' WHERE id BETWEEN 1 AND 50",
];

async function xactCommits(admin: pg.Client, database: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  return Number(rows[0]?.n ?? NaN);
}

/** Waits until no client session is connected to `database` (a backend flushes its statistics on exit). */
async function waitForSessionsGone(admin: pg.Client, database: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { rows } = await admin.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
      [database],
    );
    if (Number(rows[0]?.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sessions to ${database} still open after 15 s`);
}

interface RunningTarget {
  target: ScrapeTarget;
  stop(): Promise<void>;
}

async function startOurs(url: string, database: string): Promise<RunningTarget> {
  const registry = new Registry();
  registerRuntimeMetrics(registry); // what the exporter ships (src/exporter/main.ts), not prom-client's raw defaults
  registerBuildInfo(registry, 'bench');
  const config = parseConfig({ postgres: { url, databases: [database] } });
  if (!config.postgres) throw new Error('no postgres config');
  const collector = new PostgresCollector({ config: config.postgres, registry, log: () => undefined });
  const orchestrator = new CollectorOrchestrator({
    registry,
    collectors: [collector],
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const app = createApp({ registry, orchestrator, scrape: config.scrape, version: 'bench' });
  const server: Server = createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    target: {
      name: 'crm-exporter (postgres collector, defaults)',
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
      seriesPrefix: 'crm_pg_',
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await orchestrator.close();
    },
  };
}

async function startPostgresExporter(binary: string, url: string): Promise<RunningTarget> {
  const port = await freePort();
  const dsn = `${url}${url.includes('?') ? '&' : '?'}sslmode=disable`;
  const child = await startChild(
    binary,
    [`--web.listen-address=127.0.0.1:${port}`],
    { DATA_SOURCE_NAME: dsn },
    `http://127.0.0.1:${port}/`,
  );
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const v = /version (\S+)/.exec(`${version.stdout}${version.stderr}`)?.[1] ?? '?';
  return {
    target: {
      name: `prometheus-postgres-exporter ${v} (defaults)`,
      url: `http://127.0.0.1:${port}/metrics`,
      seriesPrefix: 'pg_',
    },
    stop: child.stop,
  };
}

/** Queries (= committed transactions in the database) per scrape of one exporter running alone. */
async function queriesPerScrape(
  admin: pg.Client,
  database: string,
  start: () => Promise<RunningTarget>,
  scrapes: number,
): Promise<number> {
  await waitForSessionsGone(admin, database);
  const before = await xactCommits(admin, database);
  const running = await start();
  try {
    for (let i = 0; i < scrapes; i++) await scrapeOnce(running.target.url);
  } finally {
    await running.stop();
  }
  await waitForSessionsGone(admin, database); // a backend flushes its statistics when it exits
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  return ((await xactCommits(admin, database)) - before) / scrapes;
}

function statsRow(s: ScrapeStats): string {
  const findings = s.promtoolFindings === undefined ? 'n/a' : `${s.promtoolFindings} / ${s.subsystemPromtoolFindings}`;
  return `| ${s.name} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.maxMs.toFixed(2)} | ${s.series} | ${s.subsystemSeries} | ${findings} |`;
}

export async function postgresSection(options: BenchOptions): Promise<SectionResult> {
  const database = `crm_bench_scrape_${randomBytes(4).toString('hex')}`;
  const benchUrl = withDatabase(options.pgUrl, database);
  const admin = new pg.Client({ connectionString: options.pgUrl, application_name: 'crm-bench' });
  await admin.connect();
  const running: RunningTarget[] = [];
  try {
    const { rows: info } = await admin.query<{ v: string }>(
      "SELECT split_part(current_setting('server_version'), ' ', 1) AS v",
    );
    await admin.query(`CREATE DATABASE ${database}`);
    const seed = new pg.Client({ connectionString: benchUrl, application_name: 'crm-bench' });
    await seed.connect();
    const seededAt = performance.now();
    await seed.query(SEED_SQL);
    await seed.query('VACUUM ANALYZE'); // so autovacuum has nothing to do while we measure
    for (let i = 0; i < 20; i++) for (const sql of TRAFFIC_SQL) await seed.query(sql);
    const { rows: counts } = await seed.query<{ n: string }>(
      'SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM customers) + (SELECT count(*) FROM notes) AS n',
    );
    await seed.end();
    const seedSeconds = (performance.now() - seededAt) / 1000;

    const binary = binaryPath('prometheus-postgres-exporter');
    running.push(await startOurs(benchUrl, database));
    if (binary) running.push(await startPostgresExporter(binary, benchUrl));
    const stats = await measureTargets(
      running.map((r) => r.target),
      options.scrapes,
      options.warmup,
    );
    for (const r of running.splice(0)) await r.stop();

    const oursQueries = Number(/^crm_pg_scrape_queries (\S+)$/m.exec(stats[0]?.lastBody ?? '')?.[1] ?? NaN);
    const oursMeasured = await queriesPerScrape(admin, database, () => startOurs(benchUrl, database), 20);
    const theirsMeasured = binary
      ? await queriesPerScrape(admin, database, () => startPostgresExporter(binary, benchUrl), 20)
      : undefined;

    const ours = stats[0] as ScrapeStats;
    const theirs = stats[1];
    const targetMet = theirs === undefined ? true : ours.p99Ms <= theirs.p99Ms;
    const lines = [
      `Run: \`npm run bench:scrape${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, PostgreSQL ${info[0]?.v}, ${maskUrl(options.pgUrl)}).`,
      '',
      `Seeded database \`crm_bench_scrape_*\` (created and dropped by the bench): users, customers, notes: ${Number(counts[0]?.n).toLocaleString('en')} rows,`,
      `9 indexes, ${TRAFFIC_SQL.length * 20} statements of traffic; seeded in ${seedSeconds.toFixed(1)} s. Both exporters point at that database`,
      '(ours: `databases: [<it>]`, everything else default: statements enabled (pg_stat_statements not preloaded on this server, so',
      '`crm_pg_statements_enabled 0`), max_tables/max_indexes 200; postgres_exporter: defaults, DATA_SOURCE_NAME on that database).',
      `${options.scrapes} scrapes each after ${options.warmup} warm-up, interleaved one for one; each is a full GET of /metrics with the body read.`,
      '',
      '| target | p50 ms | p99 ms | max ms | series | PostgreSQL series | promtool findings (all / PostgreSQL) |',
      '|---|---|---|---|---|---|---|',
      statsRow(ours),
      ...(theirs ? [statsRow(theirs)] : []),
      '',
      `Queries per scrape: ours **${oursQueries}** (\`crm_pg_scrape_queries\`), ${oursMeasured.toFixed(2)} measured as committed transactions in the`,
      `database over 20 scrapes of ours alone${theirsMeasured === undefined ? '' : `; postgres_exporter ${theirsMeasured.toFixed(2)} measured the same way`}.`,
      'Ours: server facts, pg_stat_database, pg_stat_activity + pg_locks, pg_stat_user_tables (+ pg_database_size), pg_stat_user_indexes: one per view.',
      '"series" counts every sample line (ours includes prom-client\'s process_/nodejs_ defaults, theirs go_/process_); "PostgreSQL series"',
      "counts `crm_pg_*` resp. `pg_*` sample lines. promtool findings: whole exposition / PostgreSQL families only (ours serves prom-client's",
      "defaults through registerRuntimeMetrics, like the exporter, without the `nodejs_active_*_total` gauges promtool rejects). postgres_exporter's defaults have no per-table/per-index",
      'metrics (those need its queries.yaml); ours include them (3 tables, 9 indexes here).',
      '',
      theirs
        ? `Target: our p99 <= postgres_exporter's p99: **${targetMet ? 'met' : 'NOT met'}** (${ours.p99Ms.toFixed(2)} ms vs ${theirs.p99Ms.toFixed(2)} ms).`
        : 'prometheus-postgres-exporter is not installed: no comparison (apt-get install prometheus-postgres-exporter).',
    ];
    return { heading: 'bench:scrape (PostgreSQL)', markdown: lines.join('\n'), targetMet };
  } finally {
    for (const r of running) await r.stop().catch(() => undefined);
    await admin
      .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
        database,
      ])
      .catch(() => undefined);
    await admin
      .query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      .catch((err: Error) => process.stderr.write(`drop ${database}: ${err.message}\n`));
    await admin.end();
  }
}

/** The sections, in run order. A section for another subsystem is one more entry. */
export const SECTIONS: readonly BenchSection[] = [
  { name: 'postgres', run: postgresSection },
  { name: 'redis', run: redisSection },
  { name: 'busy', run: busySection },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const options: BenchOptions = {
    scrapes: Number(arg('--scrapes') ?? 200),
    warmup: Number(arg('--warmup') ?? 20),
    pgUrl: arg('--pg') ?? process.env.CRM_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
  const only = arg('--section');
  const chosen = SECTIONS.filter((s) => only === undefined || s.name === only);
  if (chosen.length === 0) throw new Error(`no section "${only}" (have: ${SECTIONS.map((s) => s.name).join(', ')})`);
  let failed = false;
  for (const section of chosen) {
    const result = await section.run(options);
    process.stdout.write(`## ${result.heading}\n\n${result.markdown}\n\n`);
    if (!result.targetMet) failed = true;
    if (process.argv.includes('--write-results')) writeResultsSection(result.heading, result.markdown);
  }
  process.exitCode = failed ? 1 : 0;
}
