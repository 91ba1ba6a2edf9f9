import { postgresUrlProblem } from '../sources/pg-pool.js';
import type { ConfigCheck } from './load.js';

/** Checks that compile user-supplied patterns, so a bad pattern stops start-up with its key path. */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [
  (config) => {
    const problem = config.postgres ? postgresUrlProblem(config.postgres.url) : undefined;
    return problem ? [`postgres.url: ${problem}`] : [];
  },
  (config) =>
    config.logs.flatMap((src, i) => {
      if (src.format !== 'regex' || !src.pattern) return [];
      try {
        const re = new RegExp(src.pattern);
        const groups = /\(\?<([a-zA-Z_][a-zA-Z0-9_]*)>/g;
        const names = new Set([...src.pattern.matchAll(groups)].map((m) => m[1]));
        const missing = ['method', 'status'].filter((g) => !names.has(g));
        if (!names.has('path') && !names.has('route')) missing.push('path or route');
        void re;
        return missing.length > 0 ? [`logs[${i}].pattern: missing named group(s) ${missing.join(', ')}`] : [];
      } catch (err) {
        return [`logs[${i}].pattern: not a valid regular expression (${(err as Error).message})`];
      }
    }),
];
