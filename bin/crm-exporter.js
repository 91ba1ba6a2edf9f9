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
