import { statSync } from 'node:fs';
import { JsonLineParser } from './parsers/json-line.js';
import { NginxLineParser } from './parsers/nginx-format.js';
import { RegexLineParser } from './parsers/regex-line.js';
import { postgresUrlProblem } from './sources/pg-pool.js';
import { redisUrlProblem } from './sources/redis-client.js';
import { ConfigError } from './errors.js';
import type { ConfigCheck } from './config/load.js';
import { hasAtAfterHost } from './config/mask.js';
import { loadWebConfig } from './config/web-config.js';

/**
 * Checks that need more than the schema: compiling each log source's `log_format` or `pattern` with the parser
 * that will read it, and parsing the PostgreSQL, Redis and probe URLs, so a bad value stops start-up with its key path.
 */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [
  // The web config file is loaded exactly as start-up loads it: YAML, schema, certificates, key match, bcrypt hashes.
  (config) => {
    if (!config.web_config_file) return [];
    try {
      loadWebConfig(config.web_config_file);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((problem) => `web_config_file: ${problem}`);
      throw err;
    }
  },
  (config) => {
    const problem = config.postgres ? postgresUrlProblem(config.postgres.url) : undefined;
    return problem ? [`postgres.url: ${problem}`] : [];
  },
  (config) => {
    const problem = config.redis ? redisUrlProblem(config.redis.url) : undefined;
    return problem ? [`redis.url: ${problem}`] : [];
  },
  (config) =>
    config.probe && hasAtAfterHost(config.probe.url)
      ? ['probe.url: has an @ after the host (percent-encode / ? # @ : in the user name and password)']
      : [],
  (config) =>
    config.logs.flatMap((source, i) => {
      try {
        if (source.format === 'nginx') new NginxLineParser(source.log_format ?? 'combined');
        if (source.format === 'regex' && source.pattern) new RegexLineParser(source.pattern);
        if (source.format === 'json') new JsonLineParser(source.fields);
        return [];
      } catch (err) {
        const key = source.format === 'nginx' ? 'log_format' : source.format === 'json' ? 'fields' : 'pattern';
        return [`logs[${i}].${key}: ${err instanceof Error ? err.message : String(err)}`];
      }
    }),
  (config) => positionsFileProblems(config.positions_file),
];

/**
 * positions_file must name a file: a directory (or a path ending in /) would have the temporary files of every
 * save land in its parent and every rename fail.
 */
function positionsFileProblems(file: string): string[] {
  if (/[/\\]$/.test(file)) return ['positions_file: must name a file, not a directory (it ends with a slash)'];
  try {
    if (!statSync(file).isFile()) return ['positions_file: exists and is not a regular file (a directory?)'];
  } catch {
    // Missing: created at the first save, with its directory.
  }
  return [];
}
