import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_CHECKS } from '../../src/exporter/config-checks.js';
import { loadConfigFile } from '../../src/exporter/config/load.js';
import { commandOf, loadCompose, mounts, readYaml, REPO } from '../helpers/compose.js';
import { requireBinary } from '../helpers/prometheus.js';

/*
 * No Docker engine runs on our machines, so docker-compose.yml is never started by a test. What can be proven
 * without one is proven here: the Compose schema (Debian's docker-compose validates offline), that every file it
 * mounts is in the repository, that every image is pinned, and that every service can report its health.
 */
const compose = loadCompose();
const services = Object.entries(compose.services);

function composeConfig(file: string): { status: number | null; output: string } {
  const bin = requireBinary('docker-compose', 'docker-compose');
  // -p: a fixed project name, so the result does not depend on the checkout's folder name.
  const r = spawnSync(bin, ['-f', file, '-p', 'crm', 'config', '-q'], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('docker-compose.yml', () => {
  it('passes `docker-compose config -q` (the Compose schema, without an engine)', () => {
    const r = composeConfig(join(REPO, 'docker-compose.yml'));
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('`docker-compose config -q` does reject a file that breaks the schema', () => {
    // Without this, a validator that accepted anything would pass the test above.
    const dir = mkdtempSync(join(tmpdir(), 'crm-compose-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      writeFileSync(
        broken,
        'services:\n  crm:\n    image: crm-exporter:local\n    healthcheck:\n      test: ["CMD", "true"]\n      intervall: 5s\n',
      );
      const r = composeConfig(broken);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/intervall/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has no `version:` key (Compose specification)', () => {
    expect(Object.keys(compose)).not.toContain('version');
  });
});

describe('files the stack mounts', () => {
  const binds = mounts(compose).filter((m) => m.kind === 'bind');

  it.each(binds.map((m) => [`${m.service}: ${m.source}`, m.source] as const))(
    '%s exists in the repository',
    (_label, source) => {
      expect(
        existsSync(join(REPO, source)),
        `${source} is mounted by docker-compose.yml but is not in the repository`,
      ).toBe(true);
    },
  );

  /*
   * Written by the bundle generator (`crm-exporter bundle`) and the alerting work, not by this file's authors. Listed
   * by name so that their absence is a failure here rather than an empty folder Docker creates at `up`.
   */
  const GENERATED = [
    {
      path: 'alerting/rules',
      what: 'the recording and alerting rule files (*.yml)',
      from: '`crm-exporter bundle`',
      ok: (p: string) => statSync(p).isDirectory() && readdirSync(p).some((f) => f.endsWith('.yml')),
    },
    {
      path: 'alerting/alertmanager.yml',
      what: "Alertmanager's configuration",
      from: 'the alerting work',
      ok: (p: string) => statSync(p).isFile(),
    },
    {
      path: 'dashboards',
      what: 'the generated dashboards (*.json)',
      from: '`crm-exporter bundle`',
      ok: (p: string) => readdirSync(p).some((f) => f.endsWith('.json')),
    },
  ];

  it.each(GENERATED)('$path: $what', ({ path, from, ok }) => {
    expect(
      binds.map((m) => m.source.replace(/^\.\//, '')),
      `${path} is no longer mounted: update this list`,
    ).toContain(path);
    const full = join(REPO, path);
    expect(existsSync(full) && ok(full), `${path} is missing or empty: it comes from ${from}`).toBe(true);
  });

  it('bind mounts are read-only: the stack never writes into the checkout', () => {
    expect(binds.filter((m) => !m.readOnly).map((m) => `${m.service}: ${m.source}`)).toEqual([]);
  });

  it('every named volume is declared', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const volumes = mounts(compose).filter((v) => v.kind === 'volume');
    expect(volumes.length).toBeGreaterThan(0);
    for (const m of volumes) expect(declared, `${m.service} mounts ${m.source}`).toContain(m.source);
  });
});

describe('images', () => {
  // A version in the tag (at least major.minor: `postgres:16` would float), or a digest. Never `latest`.
  const PINNED =
    /^[a-z0-9][a-z0-9._/-]*:v?\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$|^[a-z0-9][a-z0-9._/-]*@sha256:[0-9a-f]{64}$/;

  it.each(services.filter(([, s]) => s.build === undefined))('%s: the image is pinned to a version', (_name, s) => {
    expect(s.image, 'a service without `build` needs an image').toBeDefined();
    expect(s.image).toMatch(PINNED);
    expect(s.image).not.toMatch(/:latest\b|\$\{/);
  });

  it('our own image is built from the Dockerfile, and its base image is pinned', () => {
    const built = services.filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual(['crm', 'crm-exporter', 'loadgen', 'log-rotate']);
    // One local tag: built once, never pulled from a registry.
    expect(new Set(built.map(([, s]) => s.image))).toEqual(new Set(['crm-exporter:local']));
    expect(existsSync(join(REPO, 'Dockerfile'))).toBe(true);
    // The FROM lines themselves are checked in test/bundle/image.test.ts.
  });

  it('the pattern rejects what it must', () => {
    for (const bad of ['postgres', 'postgres:latest', 'postgres:16', 'node:24-bookworm-slim', 'grafana/grafana:main'])
      expect(bad).not.toMatch(PINNED);
    for (const good of ['postgres:16.15-bookworm', 'prom/prometheus:v3.14.0', `redis@sha256:${'a'.repeat(64)}`])
      expect(good).toMatch(PINNED);
  });
});

describe('health', () => {
  it.each(services)('%s has a healthcheck or says why not', (_name, s) => {
    const check = s.healthcheck;
    if (check && !check.disable) {
      expect(check.test, 'a healthcheck needs a test').toBeDefined();
      return;
    }
    const reason = (s['x-no-healthcheck'] ?? '').trim();
    expect(reason.length, 'no healthcheck: give the reason (a sentence) in x-no-healthcheck').toBeGreaterThan(40);
  });

  it('`service_healthy` conditions only wait on services that have a healthcheck', () => {
    for (const [name, s] of services) {
      const deps = Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {});
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(compose.services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(compose.services[dep]?.healthcheck?.test, `${name} waits for ${dep} to be healthy`).toBeDefined();
      }
    }
  });
});

describe('the CRM log reaches the exporter', () => {
  const exporterConfig = readYaml<{ listen: string; logs: Array<{ path: string }> }>(
    'deploy/compose/crm-exporter.yaml',
  );

  it('the CRM writes its access log where the exporter tails it, on one shared volume', () => {
    const crmLog = commandOf(compose.services.crm!)
      .find((a) => a.startsWith('--access-log='))
      ?.slice('--access-log='.length);
    const tailed = exporterConfig.logs[0]?.path;
    expect(crmLog).toBe(tailed);
    const folder = (crmLog ?? '').replace(/\/[^/]+$/, '');
    const crmVolume = mounts(compose).find((m) => m.service === 'crm' && m.target === folder);
    const exporterVolume = mounts(compose).find((m) => m.service === 'crm-exporter' && m.target === folder);
    expect(crmVolume?.kind).toBe('volume');
    expect(exporterVolume?.source).toBe(crmVolume?.source);
  });

  it('the exporter config mounted into the stack passes check-config', () => {
    const mounted = mounts(compose).find(
      (m) => m.service === 'crm-exporter' && m.kind === 'bind' && m.source.endsWith('.yaml'),
    );
    expect(mounted?.source).toBe('./deploy/compose/crm-exporter.yaml');
    expect(commandOf(compose.services['crm-exporter']!)).toContain(mounted?.target);
    // Throws ConfigError listing every bad key; the environment is empty as in the container (no overrides).
    const config = loadConfigFile(join(REPO, 'deploy/compose/crm-exporter.yaml'), {}, CONFIG_CHECKS);
    expect(new URL(config.probe!.url).host).toBe('crm:3000');
  });

  it('the exporter listens on the port compose publishes', () => {
    const port = exporterConfig.listen.split(':').at(-1);
    expect(compose.services['crm-exporter']?.ports).toEqual([`127.0.0.1:${port}:${port}`]);
  });
});
