import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { configSchema, type LogSourceConfig } from '../../src/exporter/config/schema.js';
import { createLineParser, createLogPipeline, LineProcessor } from '../../src/exporter/logs/pipeline.js';
import { sampleSum } from '../helpers/exposition.js';

const JSON_LINE = (status: number, path = '/api/customers/1'): string =>
  `{"method":"GET","path":"${path}","status":${status},"duration_ms":5,"bytes":10}\n`;

function config(over: Record<string, unknown>): LogSourceConfig {
  return configSchema.parse({ logs: [{ name: 'api', path: '/dev/null', format: 'json', ...over }] })
    .logs[0] as LogSourceConfig;
}

describe('LineProcessor', () => {
  const feed = (p: LineProcessor, line: string | Buffer): void => {
    const b = typeof line === 'string' ? Buffer.from(line) : line;
    p.line(b, 0, b.length);
  };

  it.each([
    ['', 'empty_line'],
    ['   ', 'empty_line'],
    ['\t \r', 'empty_line'],
    ['{"status":200', 'invalid_json'],
  ])('%j -> %s', async (line, reason) => {
    const registry = new Registry();
    const p = new LineProcessor(config({}), registry);
    feed(p, line);
    const text = await registry.metrics();
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(1);
    expect(sampleSum(text, 'crm_log_parse_errors_total', { reason })).toBe(1);
    expect(sampleSum(text, 'crm_http_requests_total')).toBe(0);
  });

  it('counts an oversized line as a line and a line_too_long error', async () => {
    const registry = new Registry();
    const p = new LineProcessor(config({}), registry);
    p.oversized();
    const text = await registry.metrics();
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(1);
    expect(sampleSum(text, 'crm_log_parse_errors_total', { reason: 'line_too_long' })).toBe(1);
  });

  it('trims trailing blanks and CR, keeps leading blanks for the parser', async () => {
    const registry = new Registry();
    const p = new LineProcessor(config({}), registry);
    feed(p, `  ${JSON_LINE(200).trim()} \r`);
    expect(sampleSum(await registry.metrics(), 'crm_http_requests_total')).toBe(1);
  });

  it('counts lines that overflow max_routes', async () => {
    const registry = new Registry();
    const p = new LineProcessor(config({ max_routes: 1 }), registry);
    feed(p, JSON_LINE(200, '/a').trim());
    feed(p, JSON_LINE(200, '/b').trim());
    feed(p, JSON_LINE(200, '/c').trim());
    feed(p, JSON_LINE(200, '/a').trim());
    const text = await registry.metrics();
    expect(sampleSum(text, 'crm_log_routes_overflow_total')).toBe(2);
    expect(sampleSum(text, 'crm_http_requests_total', { route: '__other__' })).toBe(2);
    expect(sampleSum(text, 'crm_http_requests_total', { route: '/a' })).toBe(2);
  });

  it('survives a million bytes of random garbage: every line is counted, nothing throws', async () => {
    const registry = new Registry();
    const procs = [
      config({}),
      config({ name: 'n', format: 'nginx', log_format: 'combined' }),
      config({ name: 'r', format: 'regex', pattern: '^(?<status>\\d+) (?<path>\\S+)$' }),
    ].map((c) => new LineProcessor(c, registry));
    let seed = 42;
    const garbage = Buffer.alloc(1 << 20);
    for (let i = 0; i < garbage.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      garbage[i] = seed >> 16;
    }
    let lines = 0;
    for (const p of procs) {
      let pos = 0;
      lines = 0;
      for (;;) {
        const nl = garbage.indexOf(10, pos);
        const end = nl < 0 ? garbage.length : nl;
        p.line(garbage, pos, end);
        lines++;
        if (nl < 0) break;
        pos = nl + 1;
      }
    }
    const text = await registry.metrics();
    for (const log of ['api', 'n', 'r']) {
      expect(sampleSum(text, 'crm_log_lines_total', { log })).toBe(lines);
      expect(sampleSum(text, 'crm_log_parse_errors_total', { log })).toBe(lines);
    }
  });

  it('rejects an unusable log_format or pattern when the pipeline is built (start-up), not per line', () => {
    expect(() =>
      createLineParser({ format: 'nginx', log_format: '$remote_addr', pattern: undefined, fields: undefined }),
    ).toThrow(/\$status/);
    expect(() =>
      createLineParser({ format: 'regex', log_format: undefined, pattern: '(?<status>', fields: undefined }),
    ).toThrow(/invalid pattern/);
  });
});

describe('LogPipeline on a real file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crm-pipeline-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('start_at end skips what is there, then counts appended lines exactly; status and metrics agree', async () => {
    const path = join(dir, 'access.log');
    await writeFile(path, JSON_LINE(200).repeat(5));
    const registry = new Registry();
    const p = createLogPipeline(config({ path, poll_interval: 50 }), registry, { watch: false });
    expect(p.status().state).toBe('starting');
    await p.start();
    await appendFile(path, JSON_LINE(200).repeat(3) + JSON_LINE(503) + 'garbage\n');
    await p.caughtUp();
    const text = await registry.metrics();
    expect(sampleSum(text, 'crm_http_requests_total', { status: '200' })).toBe(3);
    expect(sampleSum(text, 'crm_http_requests_total', { status: '503' })).toBe(1);
    expect(sampleSum(text, 'crm_log_lines_total')).toBe(5);
    expect(sampleSum(text, 'crm_log_parse_errors_total', { reason: 'invalid_json' })).toBe(1);
    expect(sampleSum(text, 'crm_log_bytes_read_total')).toBe(JSON_LINE(200).length * 3 + JSON_LINE(503).length + 8);
    expect(sampleSum(text, 'crm_log_last_read_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(p.status()).toEqual({ name: 'api', path, format: 'json', state: 'open', lines: 5, errors: 1, lagBytes: 0 });
    await p.close();
    expect(p.status().state).toBe('closed');
  });

  it('a restarted pipeline resumes from the saved position: each line counted once', async () => {
    const path = join(dir, 'access.log');
    await writeFile(path, JSON_LINE(200).repeat(4));
    const first = createLogPipeline(config({ path, start_at: 'beginning' }), new Registry(), { watch: false });
    await first.start();
    await first.caughtUp();
    expect(first.status().lines).toBe(4);
    await first.close();
    const saved = first.position();
    expect(saved).toBeDefined();

    await appendFile(path, JSON_LINE(201).repeat(2));
    const registry = new Registry();
    const second = createLogPipeline(config({ path, start_at: 'beginning' }), registry, {
      resume: saved,
      watch: false,
    });
    await second.start();
    await second.caughtUp();
    const text = await registry.metrics();
    expect(sampleSum(text, 'crm_http_requests_total')).toBe(2);
    expect(sampleSum(text, 'crm_http_requests_total', { status: '201' })).toBe(2);
    await second.close();
  });

  it('waits for a missing file and reports it in its state; tailer errors go to the log callback', async () => {
    const path = join(dir, 'later.log');
    const messages: string[] = [];
    const p = createLogPipeline(config({ path, start_at: 'beginning', poll_interval: 20 }), new Registry(), {
      watch: false,
      log: (m) => messages.push(m),
    });
    await p.start();
    expect(p.status().state).toBe('missing');
    await writeFile(path, JSON_LINE(200));
    await new Promise((r) => setTimeout(r, 100));
    await p.caughtUp();
    expect(p.status()).toMatchObject({ state: 'open', lines: 1 });
    await p.close();
    expect(messages).toEqual([]);
  });
});
