import type { LoadSummary, Progress } from './runner.js';

const ms = (x: number): string => `${x.toFixed(1)} ms`;

function statuses(byStatus: Record<number, number>): string {
  return Object.entries(byStatus)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
}

/** One line per progress interval: rate, latency percentiles, errors, current fault phase. */
export function formatProgress(p: Progress): string {
  const total = Object.values(p.byStatus).reduce((a, b) => a + b, 0) + p.networkErrors;
  const errors = Object.entries(p.byStatus).reduce((n, [s, c]) => (Number(s) >= 500 ? n + c : n), 0) + p.networkErrors;
  const share = total === 0 ? 0 : (100 * errors) / total;
  return `[${p.elapsedS.toFixed(0).padStart(4)}s] ${p.rps.toFixed(1).padStart(7)} req/s  p50 ${ms(p.latency.p50)}  p95 ${ms(p.latency.p95)}  p99 ${ms(p.latency.p99)}  errors ${errors} (${share.toFixed(1)}%)  [${statuses(p.byStatus)}]  phase: ${p.phase}`;
}

export function formatSummary(s: LoadSummary): string {
  const l = s.load;
  const lines = [
    `scenario ${s.scenario} against ${s.url}: ${l.requests} requests in ${s.durationS.toFixed(1)} s = ${l.rps.toFixed(1)} req/s`,
    `latency p50 ${ms(l.latency.p50)}  p95 ${ms(l.latency.p95)}  p99 ${ms(l.latency.p99)}  max ${ms(l.latency.max)}`,
    `errors: ${l.errors5xx} 5xx, ${l.errors4xx} 4xx, ${s.networkErrors} without response${s.dropped > 0 ? `, ${s.dropped} arrivals dropped (too many in flight)` : ''}`,
    `all requests sent (setup and admin included): ${s.sent}  by status: ${statuses(s.byStatus)}`,
    ...(s.phases.length > 0
      ? [`phases: ${s.phases.map((p) => `${p.label} at ${p.atS.toFixed(1)} s`).join(', ')}`]
      : []),
    '',
    `${'operation'.padEnd(16)}${'requests'.padStart(9)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'p99'.padStart(10)}  statuses`,
  ];
  for (const [op, o] of Object.entries(s.byOperation)) {
    lines.push(
      `${op.padEnd(16)}${String(o.requests).padStart(9)}${ms(o.latency.p50).padStart(10)}${ms(o.latency.p95).padStart(10)}${ms(o.latency.p99).padStart(10)}  ${statuses(o.byStatus)}${o.networkErrors ? ` net:${o.networkErrors}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
