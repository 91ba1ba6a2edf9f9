import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfigFile } from '../exporter/config/load.js';
import { CONFIG_CHECKS } from '../exporter/config-checks.js';
import { ConfigError } from '../exporter/errors.js';
import { startExporter, type RunningExporter } from '../exporter/main.js';
import { startCrmService, type CrmService } from '../crm/main.js';
import { runLoad } from '../loadgen/runner.js';
import { startMonitoring, type Monitoring } from './monitoring.js';

/*
 * `npm start`: the whole local demo in one process tree. The reference CRM (src/crm) writes its access log, the
 * exporter (configured by crm-exporter.example.yaml) tails it and samples PostgreSQL, Redis and the CRM's health
 * endpoint, and the load generator keeps light steady traffic going. This file is a composition root of its own:
 * the CRM and the exporter stay independent programs.
 */

const CONFIG = process.env.CRM_EXPORTER_CONFIG ?? 'crm-exporter.example.yaml';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/crm';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CRM_PORT = Number(process.env.PORT ?? 3000);
const LOAD_RATE = Number(process.env.DEMO_RATE ?? 20);
const ADMIN_TOKEN = process.env.CRM_ADMIN_TOKEN ?? 'demo-admin-token';

function say(line: string): void {
  process.stderr.write(`demo: ${line}\n`);
}

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfigFile(CONFIG, process.env, CONFIG_CHECKS);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(`${CONFIG}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const crmLogSource = config.logs.find((s) => s.name === 'crm');
  const accessLog = resolve(crmLogSource?.path ?? './var/log/crm-access.log');
  mkdirSync(dirname(accessLog), { recursive: true });

  let crm: CrmService;
  try {
    crm = await startCrmService({
      databaseUrl: DATABASE_URL,
      redisUrl: REDIS_URL,
      port: CRM_PORT,
      accessLog,
      accessLogReopenSeconds: 5,
      adminToken: ADMIN_TOKEN,
      createDatabase: true,
    });
  } catch (err) {
    // CrmStartError carries a plain, actionable message (which server, which URL, which variable to set).
    say(err instanceof Error ? err.message : String(err));
    say('the demo needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); start them and try again');
    return 1;
  }

  let exporter: RunningExporter;
  try {
    exporter = await startExporter(config, { log: (line) => say(`exporter: ${line}`) });
  } catch (err) {
    await crm.close();
    throw err;
  }

  let monitoring: Monitoring | undefined;
  try {
    monitoring = await startMonitoring({ exporterUrl: exporter.url, workDir: 'var/demo', say });
  } catch (err) {
    say(`monitoring not started: ${err instanceof Error ? err.message : String(err)}`);
  }

  const stopLoad = new AbortController();
  say(`CRM service      ${crm.url}  (access log ${accessLog})`);
  say(`exporter         ${exporter.url}/  metrics at ${exporter.url}/metrics`);
  say(
    `load generator   steady, ${LOAD_RATE} requests/s; inject faults with: npx crm-loadgen --url ${crm.url} --admin-token ${ADMIN_TOKEN} --scenario error-burst`,
  );
  for (const line of monitoring?.lines ?? []) say(line);
  say('press Ctrl-C to stop');

  const load = runLoad({
    url: crm.url,
    durationMs: 365 * 24 * 3600 * 1000,
    rate: LOAD_RATE,
    scenario: 'steady',
    adminToken: ADMIN_TOKEN,
    signal: stopLoad.signal,
  }).catch((err: unknown) => say(`load generator stopped: ${err instanceof Error ? err.message : String(err)}`));

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      say(`${signal}: stopping`);
      resolveStop();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  stopLoad.abort();
  await load;
  await monitoring?.close();
  await exporter.close();
  await crm.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    say(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
