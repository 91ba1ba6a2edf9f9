import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { loadConfigFile } from './config/load.js';
import { maskConfig, redactSecrets, secretsIn } from './config/mask.js';
import { CONFIG_CHECKS } from './config-checks.js';
import type { Config } from './config/schema.js';
import { dryBuildProblems } from './dry-build.js';
import { describeWebConfig, loadWebConfig, maskWebConfig } from './config/web-config.js';
import { ConfigError, ListenError } from './errors.js';
import { startExporter } from './main.js';
import { VERSION } from './version.js';

const HELP = `crm-exporter ${VERSION}: Prometheus exporter for a CRM platform (access logs, PostgreSQL, Redis, health probe)

Usage:
  crm-exporter --config FILE          run the exporter (or set CRM_EXPORTER_CONFIG=FILE)
  crm-exporter check-config FILE      validate FILE, print the resolved config with secrets masked;
                                      exit 1 listing every problem with its key path
  crm-exporter bundle [--thresholds FILE] [--format FORMAT] [--out DIR] [--check]
                                      render the Prometheus rules and Grafana dashboards from
                                      alerting/thresholds.yaml, as files or Kubernetes objects
                                      (see \`crm-exporter bundle --help\`)
  crm-exporter --help | --version

  --web.config.file FILE              TLS and Basic auth for every endpoint, in the Prometheus exporter-toolkit
                                      web configuration format (overrides web_config_file; checked by check-config)

Environment overrides: CRM_EXPORTER_LISTEN, CRM_EXPORTER_POSITIONS_FILE, CRM_EXPORTER_POSTGRES_URL,
CRM_EXPORTER_REDIS_URL, CRM_EXPORTER_PROBE_URL, CRM_EXPORTER_WEB_CONFIG_FILE.
See crm-exporter.example.yaml for every key, and docs/metrics.md for every metric.
`;

type Out = { out: (text: string) => void; err: (text: string) => void };
const stdio: Out = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Returns the exit code for commands that finish; for `run`, resolves once the exporter has stopped. */
export async function main(argv: string[], io: Out = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // `bundle` is a separate entry point (bundle/command.ts): bin/crm-exporter.js loads it for that command only, so a
  // running exporter never loads the generator and its dependencies.
  if (argv[0] === 'bundle') {
    io.err('crm-exporter bundle: run it through bin/crm-exporter.js (the bundle generator is its own entry point)\n');
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'web.config.file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  // The flag the Go exporters use; it wins over the environment, which wins over the file.
  const webConfigFlag = values['web.config.file'];
  if (webConfigFlag !== undefined) env = { ...env, CRM_EXPORTER_WEB_CONFIG_FILE: webConfigFlag };
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (values.version) {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === 'check-config') {
    const file = rest[0] ?? values.config;
    if (!file || rest.length > 1) {
      io.err(`check-config takes exactly one FILE\n\n${HELP}`);
      return 2;
    }
    return checkConfig(file, io, env);
  }
  if (command !== undefined) {
    io.err(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const file = values.config ?? env.CRM_EXPORTER_CONFIG;
  if (!file) {
    io.err(`no configuration: pass --config FILE or set CRM_EXPORTER_CONFIG\n\n${HELP}`);
    return 2;
  }
  return run(file, io, env);
}

/**
 * The config as start-up will use it: loaded, validated, and built once without I/O (dryBuildProblems), so
 * check-config and start-up accept exactly the same files.
 */
async function loadForStart(file: string, env: NodeJS.ProcessEnv): Promise<Config> {
  const config = loadConfigFile(file, env, CONFIG_CHECKS);
  const problems = await dryBuildProblems(config);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => redactSecrets(p, secretsIn(config))));
  return config;
}

async function checkConfig(file: string, io: Out, env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const config = await loadForStart(file, env);
    io.out(`# ${file}: configuration is valid; resolved values (durations in milliseconds, secrets masked):\n`);
    io.out(redactSecrets(yaml.dump(maskConfig(config), { lineWidth: 120, noRefs: true }), secretsIn(config)));
    if (config.web_config_file) {
      const web = loadWebConfig(config.web_config_file);
      io.out(`# web_config_file ${web.file}: valid (${describeWebConfig(web)}); bcrypt hashes and keys masked:\n`);
      io.out(yaml.dump(maskWebConfig(web), { lineWidth: 120, noRefs: true }));
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function run(file: string, io: Out, env: NodeJS.ProcessEnv): Promise<number> {
  let config;
  try {
    config = await loadForStart(file, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let exporter;
  try {
    exporter = await startExporter(config, { log: (line) => io.err(`${line}\n`) });
  } catch (err) {
    if (err instanceof ListenError) {
      io.err(`${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  io.err(`crm-exporter ${VERSION} listening on ${exporter.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.err(`received ${signal}: stopping (the positions file stays at the last served scrape)\n`);
      exporter.close().then(resolve, (err: unknown) => {
        io.err(`error while stopping: ${String(err)}\n`);
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
