import { connectPostgres } from './db/connect.js';
import { migrate } from './db/migrate.js';
import { CrmStartError } from './errors.js';
import { errorMessage, stderrLogger } from './log.js';
import { parseCommand, UsageError, USAGE, type Command } from './options.js';
import { connectRedis } from './redis.js';
import { seed } from './seed.js';
import { startCrmService } from './service.js';

export { startCrmService } from './service.js';
export type { CrmService, CrmServiceOptions } from './service.js';

/** `crm-service` CLI. Resolves with an exit code, or undefined while the server keeps running. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`crm-service: ${err.message}\n(see crm-service --help)\n`);
    return 2;
  }
  try {
    switch (cmd.command) {
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case 'serve':
        await startCrmService(cmd.service);
        return undefined;
      case 'migrate':
        return await runMigrate(cmd);
      case 'seed':
        return await runSeed(cmd);
    }
  } catch (err) {
    // Start-up problems are the operator's to fix: one plain line, no stack trace.
    if (err instanceof CrmStartError) {
      process.stderr.write(`crm-service: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function runMigrate(cmd: Command): Promise<number> {
  const pool = await connectPostgres({
    databaseUrl: cmd.service.databaseUrl,
    poolMax: 2,
    createDatabase: cmd.service.createDatabase ?? false,
    log: stderrLogger,
  });
  try {
    const { applied, current } = await migrate(pool);
    process.stdout.write(
      applied.length > 0
        ? `applied migrations ${applied.join(', ')}; schema version ${current}\n`
        : `schema is up to date (version ${current})\n`,
    );
    return 0;
  } finally {
    await pool.end();
  }
}

async function runSeed(cmd: Command): Promise<number> {
  const pool = await connectPostgres({
    databaseUrl: cmd.service.databaseUrl,
    poolMax: 4,
    createDatabase: cmd.service.createDatabase ?? false,
    log: stderrLogger,
  });
  try {
    await migrate(pool);
    const result = await seed(pool, {
      customers: cmd.seed.customers,
      users: cmd.seed.users,
      onProgress: (n) => process.stderr.write(`\rseeded ${n}/${cmd.seed.customers} customers`),
    });
    process.stderr.write('\n');
    process.stdout.write(
      `seeded ${result.customers} customers, ${result.notes} notes, ${result.users} users in ${(result.ms / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await pool.end();
  }
  // The rankings set no longer matches PostgreSQL: drop it so the service rebuilds it.
  try {
    const redis = await connectRedis(cmd.service.redisUrl, stderrLogger);
    await redis.del(`${cmd.service.redisPrefix ?? 'crm:'}rankings:points`);
    redis.disconnect();
  } catch (err) {
    process.stderr.write(
      `crm-service: could not drop the rankings set (${errorMessage(err)}); the service rebuilds it when it expires (at most an hour)\n`,
    );
  }
  return 0;
}
