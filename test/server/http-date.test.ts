import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import yaml from 'js-yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/exporter/config/load.js';
import { startExporter } from '../../src/exporter/main.js';
import { httpDate, withHttpDate } from '../../src/exporter/server/http-date.js';
import { prng } from '../helpers/prng.js';

describe('httpDate', () => {
  it('writes what Date.prototype.toUTCString writes (the IMF-fixdate of RFC 9110)', () => {
    const random = prng(13);
    const samples = [0, Date.UTC(1994, 10, 6, 8, 49, 37), Date.UTC(2000, 1, 29, 23, 59, 59), Date.UTC(2026, 11, 1)];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(random() * Date.UTC(2200, 0, 1)));
    for (const ms of samples) expect(httpDate(ms)).toBe(new Date(ms).toUTCString());
    expect(httpDate(Date.UTC(1994, 10, 6, 8, 49, 37))).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
  });
});

describe('withHttpDate', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('gives every answer one Date header, of the current second', async () => {
    server = createServer(withHttpDate((_req, res) => res.end('ok'))).listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 3; i++) {
      const before = Math.floor(Date.now() / 1000) * 1000;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      await response.text();
      const after = Date.now();
      const date = response.headers.get('date') ?? '';
      expect(date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      expect(Date.parse(date)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(date)).toBeLessThanOrEqual(after);
    }
  });
});

describe('the exporter’s answers', () => {
  it('carry a Date header not made by toUTCString (which reads ICU’s time-zone names into RSS), refusals too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-http-date-'));
    const web = join(dir, 'web.yml');
    writeFileSync(web, yaml.dump({ basic_auth_users: { prometheus: bcrypt.hashSync('pass', 4) } }));
    const spy = vi.spyOn(Date.prototype, 'toUTCString');
    const plain = await startExporter(parseConfig({ listen: '127.0.0.1:0', positions_file: join(dir, 'a.json') }), {
      log: () => undefined,
    });
    const guarded = await startExporter(
      parseConfig({ listen: '127.0.0.1:0', positions_file: join(dir, 'b.json'), web_config_file: web }),
      { log: () => undefined },
    );
    try {
      const answers = [
        await fetch(`${plain.url}/metrics`),
        await fetch(`${plain.url}/nowhere`),
        await fetch(`${guarded.url}/metrics`),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 404, 401]);
      for (const answer of answers) {
        await answer.text();
        expect(answer.headers.get('date')).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      await Promise.all([plain.close(), guarded.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
