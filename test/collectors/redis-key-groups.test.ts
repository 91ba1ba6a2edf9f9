import { describe, expect, it } from 'vitest';
import { KeyGroupScan, SCAN_PAGE_MAX } from '../../src/exporter/collectors/redis/key-groups.js';

/** A fake keyspace answering SCAN MATCH like Redis: COUNT keys walked per call, matches returned. */
function fakeRedis(keys: string[], duplicates = false) {
  return (command: string[]): unknown => {
    const [, cursorText, , pattern = '', , countText] = command;
    const cursor = Number(cursorText);
    const count = Number(countText);
    const prefix = pattern.replace(/\*$/, '');
    const walked = keys.slice(cursor, cursor + count);
    const matched = walked.filter((k) => k.startsWith(prefix));
    if (duplicates && matched.length > 0) matched.push(matched[0] as string); // SCAN may repeat keys
    const next = cursor + count >= keys.length ? 0 : cursor + count;
    return [String(next), matched];
  };
}

function run(scan: KeyGroupScan, redis: (command: string[]) => unknown): { rounds: number; commands: string[][][] } {
  const commands: string[][][] = [];
  while (!scan.done) {
    const round = scan.nextRound();
    if (round.length === 0) break;
    commands.push(round);
    scan.accept(round.map(redis));
  }
  return { rounds: commands.length, commands };
}

const keyspace = [
  ...Array.from({ length: 300 }, (_, i) => `customer:${i}`),
  ...Array.from({ length: 40 }, (_, i) => `lock:${i}`),
];

describe('KeyGroupScan', () => {
  it('counts every group exactly when the budget suffices, one SCAN per group per round', () => {
    const scan = new KeyGroupScan(
      [
        { name: 'cache', pattern: 'customer:*' },
        { name: 'locks', pattern: 'lock:*' },
      ],
      10_000,
      100,
    );
    const { rounds, commands } = run(scan, fakeRedis(keyspace));
    expect(scan.results()).toEqual([
      { name: 'cache', keys: 300, truncated: false },
      { name: 'locks', keys: 40, truncated: false },
    ]);
    expect(rounds).toBe(4); // 340 keys in pages of 100
    expect(commands[0]).toEqual([
      ['SCAN', '0', 'MATCH', 'customer:*', 'COUNT', '100'],
      ['SCAN', '0', 'MATCH', 'lock:*', 'COUNT', '100'],
    ]);
    expect(scan.spent).toBe(800);
  });

  it('shares the budget across groups and marks the unfinished ones truncated', () => {
    const scan = new KeyGroupScan(
      [
        { name: 'cache', pattern: 'customer:*' },
        { name: 'locks', pattern: 'lock:*' },
      ],
      100,
      1000,
    );
    const { commands } = run(scan, fakeRedis(keyspace));
    expect(commands[0]?.map((c) => c[5])).toEqual(['50', '50']);
    expect(scan.spent).toBeLessThanOrEqual(100);
    expect(scan.results()).toEqual([
      { name: 'cache', keys: 50, truncated: true },
      { name: 'locks', keys: 0, truncated: true },
    ]);
  });

  it('redistributes: with budget left over, a lone group keeps scanning in later rounds', () => {
    const big = Array.from({ length: 500 }, (_, i) => `b:${i}`);
    const redis = (command: string[]): unknown => (command[3] === 'a:*' ? ['0', []] : fakeRedis(big)(command));
    const scan = new KeyGroupScan(
      [
        { name: 'a', pattern: 'a:*' },
        { name: 'b', pattern: 'b:*' },
      ],
      1000,
      100,
    );
    const { rounds } = run(scan, redis);
    expect(scan.results()).toEqual([
      { name: 'a', keys: 0, truncated: false },
      { name: 'b', keys: 500, truncated: false },
    ]);
    expect(rounds).toBe(5);
  });

  it('de-duplicates keys SCAN returns twice', () => {
    const scan = new KeyGroupScan([{ name: 'cache', pattern: 'customer:*' }], 10_000, 50);
    run(scan, fakeRedis(keyspace, true));
    expect(scan.results()[0]).toEqual({ name: 'cache', keys: 300, truncated: false });
  });

  it('caps COUNT per call at SCAN_PAGE_MAX and has nothing to do without groups', () => {
    const scan = new KeyGroupScan([{ name: 'cache', pattern: 'customer:*' }], 1_000_000);
    expect(scan.nextRound()[0]?.[5]).toBe(String(SCAN_PAGE_MAX));
    const none = new KeyGroupScan([], 10);
    expect(none.done).toBe(true);
    expect(none.nextRound()).toEqual([]);
    expect(none.results()).toEqual([]);
  });

  it('rejects replies that are not SCAN replies', () => {
    const scan = new KeyGroupScan([{ name: 'cache', pattern: 'customer:*' }], 100);
    scan.nextRound();
    expect(() => scan.accept(['OK'])).toThrow(/unexpected SCAN reply for key group cache/);
  });
});
