import { parseArgs } from 'node:util';
import type { LoadOptions } from './runner.js';
import { isScenarioName, SCENARIOS, SCENARIO_NAMES } from './scenarios.js';

export const USAGE = `Usage: crm-loadgen [options]

  --url URL            the CRM service [CRM_URL] (default http://127.0.0.1:3000)
  --scenario NAME      ${SCENARIO_NAMES.join(' | ')} (default steady)
  --duration D         how long to run: 30s, 5m, 500ms (default 60s)
  --rate N             open model: N requests per second
  --concurrency N      closed model: N clients back to back (default 8 when --rate is not given)
  --admin-token T      the service's CRM_ADMIN_TOKEN, needed by fault scenarios [CRM_ADMIN_TOKEN]
  --progress D         progress line interval (default 5s; 0 = none)
  --timeout D          per-request timeout (default 10s)
  --json               print the summary as JSON on stdout

Scenarios:
${SCENARIO_NAMES.map((n) => `  ${n.padEnd(13)}${SCENARIOS[n].description}`).join('\n')}
`;

export class UsageError extends Error {}

export interface LoadCommand {
  help: boolean;
  json: boolean;
  options: LoadOptions;
}

/** "250ms", "5s", "2m", "1h" or bare seconds, in milliseconds. */
export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${name} must be a duration like 30s, 5m or 500ms, got "${raw}"`);
  const unit = m[2] ?? 's';
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 3_600_000);
}

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got "${raw}"`);
  return n;
}

export function parseLoadArgs(argv: readonly string[], env: NodeJS.ProcessEnv): LoadCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        url: { type: 'string' },
        scenario: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        concurrency: { type: 'string' },
        'admin-token': { type: 'string' },
        progress: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const scenario = values.scenario ?? 'steady';
  if (!isScenarioName(scenario))
    throw new UsageError(`unknown scenario "${scenario}"; choose one of ${SCENARIO_NAMES.join(', ')}`);
  const rate = positive('--rate', values.rate);
  const concurrency = positive('--concurrency', values.concurrency);
  if (rate !== undefined && concurrency !== undefined) throw new UsageError('give --rate or --concurrency, not both');
  if (concurrency !== undefined && !Number.isInteger(concurrency))
    throw new UsageError('--concurrency must be an integer');
  const durationMs = parseDuration('--duration', values.duration ?? '60s');
  if (durationMs <= 0) throw new UsageError('--duration must be positive');
  return {
    help: values.help ?? false,
    json: values.json ?? false,
    options: {
      url: (values.url ?? env.CRM_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
      scenario,
      durationMs,
      rate,
      concurrency: rate === undefined ? (concurrency ?? 8) : undefined,
      adminToken: values['admin-token'] ?? (env.CRM_ADMIN_TOKEN || undefined),
      progressIntervalMs: parseDuration('--progress', values.progress ?? '5s'),
      requestTimeoutMs: parseDuration('--timeout', values.timeout ?? '10s'),
    },
  };
}
