#!/usr/bin/env -S node --optimize-for-size --no-concurrent-recompilation
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
//
// Two entry points, picked by the command line and loaded with import() here, outside src/ (where the import zones
// of eslint.config.js forbid a relative import()): `bundle` loads the generator of the alerting and dashboard bundle
// (the Grafana SDK, zod schemas of the thresholds), everything else loads cli.js (run, check-config, --help). A running
// exporter never loads the generator: about 25 MiB of RSS it would hold for nothing (bench/footprint.ts).
import { setFlagsFromString } from 'node:v8';

// V8 tuned for a small resident set rather than peak speed: --optimize-for-size keeps the young generation small and
// grows the heap less eagerly. It is in the #! line above (`crm-exporter`, npm's bin links and the Docker image run
// this file through it), where it applies from the start; `node bin/crm-exporter.js` ignores that line, so it is also
// set here, which V8 honours only in part (the heap is already laid out). Measured by bench/footprint.ts: about 13 MiB
// less peak RSS through a 1 M-line catch-up and about 24 MiB less for the full exporter, at the same catch-up speed
// (docs/kubernetes.md, "Resources"). CRM_EXPORTER_V8_OPTIMIZE_FOR_SIZE=0 skips the second one.
if (process.env.CRM_EXPORTER_V8_OPTIMIZE_FOR_SIZE !== '0') setFlagsFromString('--optimize-for-size');
// --no-concurrent-recompilation (#! line only: V8 reads it when the isolate starts): TurboFan compiles the hot parser
// on the main thread instead of a helper thread, whose own malloc arena kept ~3 MiB after a catch-up; a 1 M-line
// catch-up takes as long (bench/footprint.ts, bench/RESULTS.md).

// Optimising compilers later: each tier-up threshold at 16x V8's default. Start-up (the ESM loader resolving ~175
// modules) is warm enough to get a dozen of Node's own URL and path functions optimised, and the first optimisation
// is what brings the optimising compiler's own code into memory (3 MiB of the node binary's pages under Node.js 20)
// and its zone; with the thresholds raised, an idle logs-only exporter has optimised nothing. The per-line parser runs
// millions of times in a catch-up and still tiers up within its first milliseconds (catch-up as fast), and the scrape
// path within the first scrapes. Idle RSS: -3.7 MiB under Node.js 20, -5.3 MiB under 24 (bench/RESULTS.md,
// "bench:footprint"). Flags by V8 line, as each knows only its own (an unknown one is an error on stderr): V8 11
// (Node.js 20) counts a budget of bytecode executed and optimises small functions on their first tick; V8 12+
// (Node.js 22, 24) counts invocations. Set here rather than in the #! line, which the other line would refuse.
// CRM_EXPORTER_V8_LATE_TIER_UP=0 keeps V8's defaults.
if (process.env.CRM_EXPORTER_V8_LATE_TIER_UP !== '0') {
  const tierUp =
    Number(process.versions.v8.split('.')[0]) >= 12
      ? [
          '--invocation-count-for-maglev=6400',
          '--invocation-count-for-maglev-osr=1600',
          '--invocation-count-for-turbofan=48000',
          '--invocation-count-for-osr=8000',
          '--invocation-count-for-early-optimization=480',
        ]
      : ['--interrupt-budget=1081344', '--max-bytecode-size-for-early-opt=0'];
  for (const flag of tierUp) setFlagsFromString(flag);
}

const argv = process.argv.slice(2);
const stdio = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

const command =
  argv[0] === 'bundle'
    ? import('../dist/src/exporter/bundle/command.js').then(({ bundleCommand }) => bundleCommand(argv.slice(1), stdio))
    : import('../dist/src/exporter/cli.js').then(({ main }) => main(argv, stdio));

command.then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
