import { formatProgress, formatSummary } from './report.js';
import { parseLoadArgs, UsageError, USAGE, type LoadCommand } from './options.js';
import { runLoad } from './runner.js';

export { runLoad } from './runner.js';
export type { LoadOptions, LoadSummary, Progress } from './runner.js';
export { SCENARIOS, SCENARIO_NAMES, type ScenarioName } from './scenarios.js';

/** `crm-loadgen` CLI: progress lines on stderr, the summary on stdout. Ctrl-C stops early and still reports. */
export async function main(argv: readonly string[]): Promise<number> {
  let cmd: LoadCommand;
  try {
    cmd = parseLoadArgs(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`crm-loadgen: ${err.message}\n(see crm-loadgen --help)\n`);
    return 2;
  }
  if (cmd.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { options } = cmd;
  process.stderr.write(
    `crm-loadgen: ${options.scenario} against ${options.url} for ${options.durationMs / 1000} s at ${options.rate !== undefined ? `${options.rate} req/s` : `concurrency ${options.concurrency}`}\n`,
  );
  try {
    const summary = await runLoad({
      ...options,
      signal: stop.signal,
      onProgress:
        options.progressIntervalMs && options.progressIntervalMs > 0
          ? (p) => process.stderr.write(`${formatProgress(p)}\n`)
          : undefined,
      onPhase: (label, at) => process.stderr.write(`crm-loadgen: ${at.toFixed(1)} s: ${label}\n`),
    });
    process.stdout.write(cmd.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    return 0;
  } catch (err) {
    process.stderr.write(`crm-loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
