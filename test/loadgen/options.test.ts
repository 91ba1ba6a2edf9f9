import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/loadgen/main.js';
import { parseDuration, parseLoadArgs, UsageError } from '../../src/loadgen/options.js';
import { chooser, learn, plan, Targets } from '../../src/loadgen/operations.js';

describe('parseLoadArgs', () => {
  it('has sensible defaults and reads the environment', () => {
    const { options } = parseLoadArgs([], { CRM_URL: 'http://crm:8080/', CRM_ADMIN_TOKEN: 'tok' });
    expect(options).toMatchObject({
      url: 'http://crm:8080',
      scenario: 'steady',
      durationMs: 60_000,
      concurrency: 8,
      adminToken: 'tok',
    });
  });

  it('parses rate, duration and scenario', () => {
    const { options, json } = parseLoadArgs(
      ['--rate', '120', '--duration', '90s', '--scenario', 'lock-storm', '--json'],
      {},
    );
    expect(options).toMatchObject({ rate: 120, durationMs: 90_000, scenario: 'lock-storm', concurrency: undefined });
    expect(json).toBe(true);
  });

  it.each([
    [['--scenario', 'chaos'], /unknown scenario/],
    [['--rate', '10', '--concurrency', '2'], /not both/],
    [['--rate', '0'], /--rate must be a positive number/],
    [['--duration', 'soon'], /--duration must be a duration/],
    [['--bogus'], /Unknown option/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseLoadArgs(argv, {})).toThrow(UsageError);
    expect(() => parseLoadArgs(argv, {})).toThrow(message);
  });

  it.each([
    ['500ms', 500],
    ['2', 2_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
  ])('duration %s = %d ms', (raw, expected) => {
    expect(parseDuration('d', raw)).toBe(expected);
  });

  it('CLI: --help exits 0, a bad flag exits 2', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--help'])).toBe(0);
      expect(await main(['--scenario', 'nope'])).toBe(2);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});

describe('operations', () => {
  it('chooses only operations with positive weight', () => {
    const choose = chooser({ getCustomer: 1, rankings: 0 });
    for (let i = 0; i < 100; i++) expect(choose()).toBe('getCustomer');
    expect(() => chooser({})).toThrow(/no positive weight/);
  });

  it('plans requests against known targets and learns created ids', () => {
    const t = new Targets('tag');
    expect(plan('getCustomer', t)).toBeUndefined();
    const create = plan('createCustomer', t)!;
    expect(create).toMatchObject({ method: 'POST', path: '/api/customers' });
    learn('createCustomer', 201, JSON.stringify({ id: 42 }), t);
    expect(plan('getCustomer', t)).toEqual({ method: 'GET', path: '/api/customers/42' });
    expect(plan('deleteCustomer', t)).toEqual({ method: 'DELETE', path: '/api/customers/42' });
    expect(t.customers).toEqual([]);
    expect(plan('deleteCustomer', t)).toBeUndefined();
    expect(plan('searchAge', t)!.path).toMatch(/^\/api\/customers\?(age=\d+|min_age=\d+&max_age=\d+)&limit=20$/);
  });
});
