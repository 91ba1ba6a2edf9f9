/*
 * What bench:rules and bench:scale share: a private Prometheus (Debian's) evaluating rule files on a backfilled TSDB,
 * and the per-group cost read from it (`evaluationTime` of /api/v1/rules, the value of
 * prometheus_rule_group_last_duration_seconds).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/net.js';

export function repoRoot(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return root;
}

export interface GroupCost {
  group: string;
  rules: number;
  /** Seconds, per evaluation observed. */
  durations: number[];
}

export interface EvaluateOptions {
  /** Ignore evaluations before this time (ms since the epoch): the wait starts there too. */
  notBeforeMs?: number;
  /** Called with Prometheus's URL at each poll (every 15 s), e.g. to read its own /metrics. */
  onPoll?: (url: string) => Promise<void>;
  /** More Prometheus flags. */
  args?: string[];
}

export async function evaluate(
  dataDir: string,
  ruleFiles: string[],
  waitSeconds: number,
  options: EvaluateOptions = {},
): Promise<GroupCost[]> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-rules-prom-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  evaluation_interval: 15s\nrule_files:\n${ruleFiles.map((f) => `  - ${f}`).join('\n')}\n`,
  );
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      '--storage.tsdb.retention.time=60d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 600; i++) {
      try {
        if ((await fetch(`${url}/-/ready`)).ok) break;
      } catch {
        // starting
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const costs = new Map<string, GroupCost>();
    const notBefore = options.notBeforeMs ?? 0;
    if (notBefore > Date.now()) await new Promise((r) => setTimeout(r, notBefore - Date.now()));
    const deadline = Date.now() + waitSeconds * 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 15_000));
      await options.onPoll?.(url);
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
        data: { groups: Array<{ name: string; rules: unknown[]; evaluationTime: number; lastEvaluation: string }> };
      };
      for (const g of body.data.groups) {
        if (g.lastEvaluation.startsWith('0001') || Date.parse(g.lastEvaluation) < notBefore) continue;
        const cost = costs.get(g.name) ?? { group: g.name, rules: g.rules.length, durations: [] };
        if (cost.durations.at(-1) !== g.evaluationTime) cost.durations.push(g.evaluationTime);
        costs.set(g.name, cost);
      }
    }
    return [...costs.values()];
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
export const ms = (s: number): string => (s * 1000).toFixed(1);

export function promVersion(): string {
  const r = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}
