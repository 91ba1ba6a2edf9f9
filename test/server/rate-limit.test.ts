import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/exporter/server/rate-limit.js';

describe('TokenBucket', () => {
  it('starts with burst tokens and earns one per interval (golang.org/x/time/rate semantics)', () => {
    let now = 0;
    const bucket = new TokenBucket(1000, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 999;
    expect(bucket.take()).toBe(false);
    now = 2000;
    expect(bucket.take()).toBe(true);
    now = 60_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});
