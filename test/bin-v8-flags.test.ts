import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORTER_BIN } from './helpers/programs.js';

/*
 * bin/crm-exporter.js raises V8's tier-up thresholds at start (the idle exporter then optimises nothing, and the
 * optimising compiler's code stays out of its RSS: bench:footprint). The flags differ by V8 line and an unknown one
 * is only an error line on stderr, so this runs on whatever Node.js runs the suite (CI: 20, then 24).
 */
const run = promisify(execFile);
let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-bin-v8-'));
  config = join(dir, 'config.json');
  await writeFile(join(dir, 'access.log'), '');
  await writeFile(config, JSON.stringify({ logs: [{ name: 'crm', path: join(dir, 'access.log'), format: 'json' }] }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Functions V8 marked for an optimising compiler (TurboFan, Maglev) while the launcher ran check-config on a logs-only
 * config. Marking is decided on the main thread when a function's budget runs out, so the count does not depend on
 * whether a background compilation finished before the process exited.
 */
async function optimisations(lateTierUp: boolean): Promise<{ count: number; stderr: string }> {
  const { stdout, stderr } = await run(
    process.execPath,
    ['--trace-opt', EXPORTER_BIN, 'check-config', '--config', config],
    {
      env: { ...process.env, CRM_EXPORTER_V8_LATE_TIER_UP: lateTierUp ? '1' : '0' },
    },
  );
  return { count: stdout.split('\n').filter((l) => l.startsWith('[marking ')).length, stderr };
}

describe('the launcher’s V8 tier-up flags', () => {
  it('are all known to this Node.js (no error on stderr)', async () => {
    const { stdout, stderr } = await run(process.execPath, [EXPORTER_BIN, '--version']);
    expect(stderr).toBe('');
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('take effect: fewer functions marked for optimisation at start than with V8’s defaults', async () => {
    const late = await optimisations(true);
    const defaults = await optimisations(false);
    expect(late.stderr).not.toMatch(/unrecognized flag/);
    expect(defaults.count).toBeGreaterThan(0);
    expect(late.count).toBeLessThan(defaults.count);
  }, 60_000);
});
