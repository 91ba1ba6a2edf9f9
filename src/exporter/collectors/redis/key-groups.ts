import { rowsFamily } from '../collector.js';

/**
 * Counting keys per key group with `SCAN cursor MATCH pattern COUNT n`, inside a work budget.
 *
 * Budget: `redis.key_group_scan_budget` is the total for one scrape across ALL groups, counted in SCAN COUNT
 * units (Redis's own measure of the keys one call walks; it may walk a few more to finish a hash bucket). A scrape
 * therefore costs Redis about the same whatever the number of groups, which is what keeps key checks from
 * hanging scrapes. Each group walks the whole keyspace of the selected database (MATCH filters server-side after
 * the walk), so N groups over K keys need N*K to finish.
 *
 * Scanning runs in rounds, one pipelined round trip per round: every group still scanning sends one SCAN with
 * COUNT = min(SCAN_PAGE_MAX, its fair share of what is left of the budget). A group that finishes early stops
 * spending, so the others get more of the rest. When what is left cannot give each group at least one key, the
 * groups still scanning are marked truncated and report the keys found so far (a lower bound).
 *
 * SCAN may return a key twice while the table is resized, so keys are de-duplicated (memory is bounded by the
 * matching keys seen, at most about the budget).
 *
 * This module is pure: it produces the commands for the next round and consumes their replies; the collector
 * does the I/O (so the first round shares a round trip with INFO and SLOWLOG LEN).
 */

export interface KeyGroup {
  readonly name: string;
  readonly pattern: string;
}

export interface KeyGroupCount {
  readonly name: string;
  readonly keys: number;
  readonly truncated: boolean;
}

/** Largest COUNT sent in one SCAN call: bounds how long one call blocks Redis. */
export const SCAN_PAGE_MAX = 1000;

interface GroupState {
  readonly group: KeyGroup;
  cursor: string;
  readonly seen: Set<string>;
  state: 'scanning' | 'done' | 'truncated';
}

export class KeyGroupScan {
  private readonly groups: GroupState[];
  private readonly budget: number;
  private readonly pageMax: number;
  private used = 0;
  /** Groups that received a command in the last round, in command order. */
  private pending: GroupState[] = [];

  constructor(groups: readonly KeyGroup[], budget: number, pageMax: number = SCAN_PAGE_MAX) {
    this.groups = groups.map((group) => ({ group, cursor: '0', seen: new Set<string>(), state: 'scanning' }));
    this.budget = Math.max(0, Math.floor(budget));
    this.pageMax = Math.max(1, Math.floor(pageMax));
  }

  /** True when no group is still scanning. */
  get done(): boolean {
    return this.groups.every((g) => g.state !== 'scanning');
  }

  /** SCAN COUNT units spent so far. */
  get spent(): number {
    return this.used;
  }

  /** The SCAN commands of the next round, one per group still scanning; empty when done. */
  nextRound(): string[][] {
    if (this.pending.length > 0) throw new Error('KeyGroupScan: previous round not accepted yet');
    const active = this.groups.filter((g) => g.state === 'scanning');
    if (active.length === 0) return [];
    const share = Math.floor((this.budget - this.used) / active.length);
    if (share < 1) {
      for (const g of active) g.state = 'truncated';
      return [];
    }
    const count = Math.min(this.pageMax, share);
    this.used += count * active.length;
    this.pending = active;
    return active.map((g) => ['SCAN', g.cursor, 'MATCH', g.group.pattern, 'COUNT', String(count)]);
  }

  /** The replies to the last `nextRound()` commands, in order. Throws on a reply that is not a SCAN reply. */
  accept(replies: readonly unknown[]): void {
    const pending = this.pending;
    this.pending = [];
    if (replies.length !== pending.length)
      throw new Error(`KeyGroupScan: expected ${pending.length} SCAN replies, got ${replies.length}`);
    pending.forEach((g, i) => {
      const reply = replies[i];
      if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) {
        throw new Error(`unexpected SCAN reply for key group ${g.group.name}`);
      }
      for (const key of reply[1] as unknown[]) g.seen.add(String(key));
      g.cursor = reply[0];
      if (g.cursor === '0') g.state = 'done';
    });
  }

  results(): KeyGroupCount[] {
    return this.groups.map((g) => ({ name: g.group.name, keys: g.seen.size, truncated: g.state === 'truncated' }));
  }
}

const group = (g: KeyGroupCount): string[] => [g.name];

export const KEY_GROUP_FAMILIES = [
  rowsFamily(
    {
      name: 'crm_redis_key_group_keys',
      help: 'Keys matching the key group pattern, counted with SCAN MATCH (a lower bound when the scan was truncated).',
      type: 'gauge',
      labelNames: ['group'],
    },
    group,
    (g: KeyGroupCount) => g.keys,
  ),
  rowsFamily(
    {
      name: 'crm_redis_key_group_scan_truncated',
      help: '1 when the key group SCAN stopped at redis.key_group_scan_budget before finishing, else 0.',
      type: 'gauge',
      labelNames: ['group'],
    },
    group,
    (g: KeyGroupCount) => (g.truncated ? 1 : 0),
  ),
];
