import { Registry } from './exposition/prom-client.js';
import { COLLECTOR_FACTORIES } from './collectors/index.js';
import type { Config } from './config/schema.js';
import { ConfigError } from './errors.js';
import { createLogSource } from './logs/glob-pipeline.js';

/**
 * Builds what start-up builds from a config (every log pipeline with its parser, route resolver and tailer, and
 * every collector with its pools and clients) without opening a file, a connection or a port, then closes it.
 * check-config and start-up both run it, so a config that check-config accepts is one that starts: whatever a
 * constructor refuses (duplicate JSON field keys, an unreadable redis.password_file, a TLS file named in
 * postgres.url that cannot be read) is reported with its key, before anything runs.
 */
export async function dryBuildProblems(config: Config): Promise<string[]> {
  const problems: string[] = [];
  const describe = (err: unknown): string[] =>
    err instanceof ConfigError ? [...err.problems] : [err instanceof Error ? err.message : String(err)];
  config.logs.forEach((source, i) => {
    try {
      createLogSource(source, new Registry(), { watch: false }); // nothing is opened before start()
    } catch (err) {
      problems.push(...describe(err).map((message) => `logs[${i}]: ${message}`));
    }
  });
  for (const [section, factory] of Object.entries(COLLECTOR_FACTORIES)) {
    try {
      await factory(config, new Registry(), () => undefined)?.close();
    } catch (err) {
      // A collector's own ConfigError names its key; anything else is named after its config section.
      problems.push(
        ...(err instanceof ConfigError ? [...err.problems] : describe(err).map((message) => `${section}: ${message}`)),
      );
    }
  }
  return problems;
}
