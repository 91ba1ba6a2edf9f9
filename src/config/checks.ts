import { JsonLineParser } from '../parsers/json-line.js';
import { NginxLineParser } from '../parsers/nginx-format.js';
import { RegexLineParser } from '../parsers/regex-line.js';
import { postgresUrlProblem } from '../sources/pg-pool.js';
import type { ConfigCheck } from './load.js';

/**
 * Checks that need more than the schema: compiling each log source's `log_format` or `pattern` with the parser
 * that will read it, and parsing the PostgreSQL URL, so a bad value stops start-up with its key path.
 */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [
  (config) => {
    const problem = config.postgres ? postgresUrlProblem(config.postgres.url) : undefined;
    return problem ? [`postgres.url: ${problem}`] : [];
  },
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
];
