/**
 * A token bucket: `burst` operations back to back, then `ratePerSecond`. One per process, because what it
 * protects is this process's CPU and memory (a password hash is a 32 MiB, ~0.1 s scrypt on libuv's thread pool,
 * which the access log's file writes share).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1))
      throw new RangeError('TokenBucket needs ratePerSecond > 0 and burst >= 1');
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token: 0 when granted, else the milliseconds until one will be available. */
  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }
}
