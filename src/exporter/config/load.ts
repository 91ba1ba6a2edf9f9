import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { z } from 'zod/v3';
import { ConfigError } from '../errors.js';
import { redactSecrets, secretsIn } from './mask.js';
import { configSchema, type Config } from './schema.js';

/** Environment variables that override connection settings (12-factor deployments keep secrets out of the file). */
export const ENV_OVERRIDES: Readonly<Record<string, readonly string[]>> = {
  CRM_EXPORTER_LISTEN: ['listen'],
  CRM_EXPORTER_WEB_CONFIG_FILE: ['web_config_file'],
  CRM_EXPORTER_POSITIONS_FILE: ['positions_file'],
  CRM_EXPORTER_POSTGRES_URL: ['postgres', 'url'],
  CRM_EXPORTER_REDIS_URL: ['redis', 'url'],
  CRM_EXPORTER_PROBE_URL: ['probe', 'url'],
};

/** Extra validation that needs more than the schema (compiling patterns); returns problems as `path: message`. */
export type ConfigCheck = (config: Config) => string[];

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

/** A schema's issues as `path: message` lines; a mistyped key gets a line of its own, quoted as written. */
export function describeIssues(issues: readonly z.ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatPath(issue.path)}: Unrecognized key: ${JSON.stringify(key)}`)
      : [`${formatPath(issue.path)}: ${issue.message}`],
  );
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node: Record<string, unknown> = raw;
    for (const key of path.slice(0, -1)) {
      const child = node[key];
      if (child === null || typeof child !== 'object' || Array.isArray(child)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
}

/** Validates an already-parsed document (YAML or object) and returns a deeply frozen Config. */
export function parseConfig(
  document: unknown,
  env: NodeJS.ProcessEnv = {},
  checks: readonly ConfigCheck[] = [],
): Config {
  const raw: Record<string, unknown> =
    document === null || document === undefined ? {} : (document as Record<string, unknown>);
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(['(root): must be a mapping of keys to values']);
  const copy = structuredClone(raw);
  applyEnv(copy, env);
  // Problems name the key and never quote a secret; should a message still hold one, it is replaced here.
  const secrets = secretsIn(copy);
  const fail = (problems: string[]): ConfigError => new ConfigError(problems.map((p) => redactSecrets(p, secrets)));
  const result = configSchema.safeParse(copy);
  if (!result.success) throw fail(describeIssues(result.error.issues));
  const problems = checks.flatMap((check) => check(result.data));
  if (problems.length > 0) throw fail(problems);
  return deepFreeze(result.data);
}

/**
 * Reads a YAML file (the config, the thresholds file) into a plain document: YAML's core schema, so `yes`/`no`
 * stay strings and no custom tags run. An unreadable file or bad YAML is a ConfigError naming the file.
 */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`], {
      cause: err,
    });
  }
  try {
    return yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new ConfigError([`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`], { cause: err });
  }
}

export function loadConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  checks: readonly ConfigCheck[] = [],
): Config {
  return parseConfig(readYamlFile(file), env, checks);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
