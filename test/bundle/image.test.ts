import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO } from '../helpers/compose.js';
import { copiesOf, inBuildContext, parseDockerfile, workdirOf } from '../helpers/dockerfile.js';
import { freePort } from '../helpers/net.js';

/*
 * The Dockerfile cannot be built here (no Docker engine). Its runtime stage is rebuilt by hand instead: the
 * files it copies, installed with the same `npm ci` line, then all three programs run from that folder. A runtime
 * import of a dev dependency, or a file the image lacks, fails here.
 */
const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const dockerignore = readFileSync(join(REPO, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

describe('Dockerfile', () => {
  it('builds on a pinned Node.js 24 image (bookworm-slim), in two stages', () => {
    expect(stages).toHaveLength(2);
    for (const stage of stages) expect(stage.image).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
  });

  it('runs as a non-root user', () => {
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it('installs production dependencies only, without running `prepare` (it needs tsc)', () => {
    const installs = runtime.instructions.filter((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]?.args).toMatch(/npm ci --omit=dev --ignore-scripts\b/);
  });

  it('copies the compiled program from the build stage, not its tests or benchmarks', () => {
    const fromBuild = copiesOf(runtime).filter((c) => c.from !== undefined);
    expect(fromBuild.flatMap((c) => c.sources)).toEqual([`${workdirOf(stages[0]!)}/dist/src`]);
  });

  it('.dockerignore keeps what the Dockerfile copies and leaves tests, benchmarks and local state out', () => {
    const copied = stages.flatMap((s) =>
      copiesOf(s)
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.sources),
    );
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) expect(inBuildContext(dockerignore, path), `${path} is copied but ignored`).toBe(true);
    for (const path of [
      'test',
      'bench',
      'node_modules',
      'dist',
      '.git',
      '.tmp',
      'var',
      'alerting',
      'dashboards',
      'docker-compose.yml',
    ]) {
      expect(inBuildContext(dockerignore, path), `${path} is in the build context`).toBe(false);
    }
  });
});

describe("the runtime stage's files", () => {
  let app: string;
  let state: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'crm-image-'));
    state = mkdtempSync(join(tmpdir(), 'crm-image-state-'));
    const buildDir = workdirOf(stages[0]!);
    for (const copy of copiesOf(runtime)) {
      for (const source of copy.sources) {
        // From the build stage: its WORKDIR is the repository root here, where `npm test` has just built dist/.
        const local = copy.from === undefined ? source : relative(buildDir, source);
        const dest = copy.dest.endsWith('/') ? join(app, copy.dest, local.split('/').at(-1)!) : join(app, copy.dest);
        if (!existsSync(join(REPO, local))) throw new Error(`${local} is missing: run npm run build first`);
        cpSync(join(REPO, local), dest, { recursive: true });
      }
    }
    // The Dockerfile's own install line (up to the first &&), from the npm cache when it can.
    const line = runtime.instructions
      .find((i) => i.op === 'RUN' && i.args.startsWith('npm ci'))!
      .args.split('&&')[0]!
      .trim();
    const install = spawnSync('npm', [...line.split(/\s+/).slice(1), '--prefer-offline'], {
      cwd: app,
      encoding: 'utf8',
    });
    if (install.status !== 0) throw new Error(`npm ci --omit=dev failed: ${install.stderr}`);
  }, 120_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('hold no dev dependency, test or source file', () => {
    const installed = readdirSync(join(app, 'node_modules'));
    for (const dev of Object.keys(pkg.devDependencies)) expect(installed, dev).not.toContain(dev.split('/')[0]);
    expect(readdirSync(app).sort()).toEqual(['bin', 'dist', 'node_modules', 'package-lock.json', 'package.json']);
    expect(readdirSync(join(app, 'dist'))).toEqual(['src']);
  });

  it.each(['crm-service', 'crm-loadgen', 'crm-exporter'])('%s --help runs', (program) => {
    const r = spawnSync(process.execPath, [join(app, 'bin', `${program}.js`), '--help'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage/);
  });

  it('crm-exporter runs with the compose config and serves PostgreSQL and Redis metrics', async () => {
    // The compose config, with the servers pointed at the local test instances the way compose points them at its own.
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [join(app, 'bin/crm-exporter.js'), '--config', join(REPO, 'deploy/compose/crm-exporter.yaml')],
      {
        env: {
          ...process.env,
          CRM_EXPORTER_LISTEN: `127.0.0.1:${port}`,
          CRM_EXPORTER_POSITIONS_FILE: join(state, 'positions.json'),
          CRM_EXPORTER_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
          CRM_EXPORTER_REDIS_URL: 'redis://127.0.0.1:6379',
          CRM_EXPORTER_PROBE_URL: `http://127.0.0.1:${port}/healthz`,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let body = '';
      for (let i = 0; i < 100 && !body; i += 1) {
        if (child.exitCode !== null) throw new Error(`crm-exporter exited ${child.exitCode}: ${stderr}`);
        body = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        if (!body) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toMatch(/^crm_scrape_collector_success\{collector="postgres"\} 1$/m);
      expect(body).toMatch(/^crm_scrape_collector_success\{collector="redis"\} 1$/m);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
