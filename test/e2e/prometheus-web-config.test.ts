import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter, type RunningExporter } from '../../src/exporter/main.js';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/*
 * A real Prometheus (Debian's 2.42) scrapes the exporter behind a web config that asks for everything at once:
 * TLS, a client certificate from our CA (RequireAndVerifyClientCert) and Basic auth. The job with every credential
 * gets the data; a job missing the password or the client certificate gets nothing (up 0).
 */
let dir: string;
let pki: TestPki;
let exporter: RunningExporter;
let prometheus: RunningPrometheus;
const LINES = 120;

beforeAll(async () => {
  pki = makeTestPki();
  dir = await mkdtemp(join(tmpdir(), 'crm-e2e-web-'));
  const log = join(dir, 'access.log');
  const lines = Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({ method: 'GET', path: `/api/customers/${i}`, status: 200, duration_ms: 3 }),
  );
  await writeFile(log, `${lines.join('\n')}\n`);
  const webConfig = join(dir, 'web.yml');
  await writeFile(
    webConfig,
    yaml.dump({
      tls_server_config: {
        cert_file: pki.serverCert,
        key_file: pki.serverKey,
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: pki.caCert,
        min_version: 'TLS12',
      },
      basic_auth_users: { prometheus: await bcrypt.hash('scrape-pass', 10) },
    }),
  );
  const config = parseConfig({
    listen: '127.0.0.1:0',
    positions_file: join(dir, 'positions.json'),
    web_config_file: webConfig,
    logs: [{ name: 'crm', path: log, format: 'json', start_at: 'beginning', routes: ['/api/customers/:id'] }],
  });
  exporter = await startExporter(config, { log: () => undefined });
  const target = exporter.url.replace('https://', '');
  const tls = { ca_file: pki.caCert, cert_file: pki.clientCert, key_file: pki.clientKey };
  prometheus = await startPrometheus([
    {
      job: 'secure',
      target,
      scheme: 'https',
      tls_config: tls,
      basic_auth: { username: 'prometheus', password: 'scrape-pass' },
    },
    { job: 'no_password', target, scheme: 'https', tls_config: tls },
    {
      job: 'wrong_password',
      target,
      scheme: 'https',
      tls_config: tls,
      basic_auth: { username: 'prometheus', password: 'guess' },
    },
    {
      job: 'no_client_cert',
      target,
      scheme: 'https',
      tls_config: { ca_file: pki.caCert },
      basic_auth: { username: 'prometheus', password: 'scrape-pass' },
    },
  ]);
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(pki.dir, { recursive: true, force: true });
});

describe('Prometheus scraping the exporter through TLS, a client certificate and Basic auth', () => {
  it('gets every sample with the right credentials and nothing without them', async () => {
    await expect
      .poll(async () => (await prometheus.query('sum(crm_http_requests_total{job="secure"})'))[0]?.value[1], {
        timeout: 30_000,
        interval: 500,
      })
      .toBe(String(LINES));
    const up = async (job: string) => (await prometheus.query(`up{job="${job}"}`))[0]?.value[1];
    expect(await up('secure')).toBe('1');
    for (const job of ['no_password', 'wrong_password', 'no_client_cert'])
      await expect.poll(() => up(job), { timeout: 15_000 }).toBe('0');
    expect(await prometheus.query('crm_exporter_build_info{job=~"no_.*|wrong_.*"}')).toEqual([]);
    // The exporter counted the refusals, and Prometheus read the count through the secure job.
    await expect
      .poll(
        async () =>
          Number(
            (await prometheus.query('crm_exporter_web_rejected_total{job="secure",reason="unauthorized"}'))[0]
              ?.value[1] ?? 0,
          ),
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    // Polled like the one above: the secure job's last scrape may predate the first refused handshake.
    await expect
      .poll(
        async () =>
          Number(
            (await prometheus.query('crm_exporter_web_rejected_total{job="secure",reason="tls_handshake"}'))[0]
              ?.value[1] ?? 0,
          ),
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
  });
});
