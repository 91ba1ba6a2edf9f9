import type bcryptjs from 'bcryptjs';
import { lazyPackage } from '../lazy-package.js';

// Loaded when a web config with basic_auth_users is: no OpenSSL or bcrypt in an exporter without one (bench/footprint.ts).
const crypto = lazyPackage<typeof import('node:crypto')>('node:crypto');
const bcrypt = lazyPackage<typeof bcryptjs>('bcryptjs');

/** User and password of an `Authorization: Basic` header, as Go's Request.BasicAuth reads it; undefined otherwise. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const encoded = header.slice(6);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * bcrypt of a random password nobody knows (cost 10, the toolkit's): compared against for unknown users so that
 * answering "no such user" takes as long as "wrong password" and user names cannot be probed by timing.
 */
const UNKNOWN_USER_HASH = '$2b$10$GIFy6jTVdJvJAKkAEmLvzOBciZCVG3obnndoby3iHoZ7McRyRTu3G';

/** Remembers up to `limit` keys; the oldest goes first. */
class BoundedSet {
  private readonly keys = new Set<string>();
  constructor(private readonly limit: number) {}
  has(key: string): boolean {
    return this.keys.has(key);
  }
  add(key: string): void {
    if (this.keys.size >= this.limit) this.keys.delete(this.keys.values().next().value as string);
    this.keys.add(key);
  }
}

export type AuthResult = 'ok' | 'denied' | 'busy';

export interface BasicAuthOptions {
  /** bcrypt verifications allowed to wait behind the running one before new ones are answered 'busy'. */
  maxWaiting?: number;
  /** Entries of each cache (successes, failures). */
  cacheSize?: number;
  compare?: (password: string, hash: string) => Promise<boolean>;
}

/**
 * Checks Basic credentials against bcrypt hashes the way exporter-toolkit's web/handler.go does: a result is cached
 * under a digest of (user, hash, password), so Prometheus's scrapes cost one bcrypt per credential, not per scrape;
 * bcrypt runs one at a time (it is CPU-bound: ~200 ms at cost 10 in pure JS). Unlike the toolkit, the cache holds
 * an HMAC under a per-process random key rather than the password itself, successes and failures are kept apart
 * so a flood of wrong passwords cannot evict Prometheus's entry, and the queue is bounded.
 */
export class BasicAuthVerifier {
  private readonly key = crypto().randomBytes(32);
  private readonly successes: BoundedSet;
  private readonly failures: BoundedSet;
  private readonly maxWaiting: number;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** bcrypt comparisons run so far (tests and benchmarks read it). */
  comparisons = 0;

  constructor(options: BasicAuthOptions = {}) {
    this.maxWaiting = options.maxWaiting ?? 8;
    this.successes = new BoundedSet(options.cacheSize ?? 100);
    this.failures = new BoundedSet(options.cacheSize ?? 100);
    this.compare = options.compare ?? ((password, hash) => bcrypt().compare(password, hash));
  }

  async verify(users: ReadonlyMap<string, string>, user: string, password: string): Promise<AuthResult> {
    const known = users.get(user);
    const hash = known ?? UNKNOWN_USER_HASH;
    const digest = crypto()
      .createHmac('sha256', this.key)
      .update(JSON.stringify([user, hash, password]))
      .digest('base64');
    if (this.successes.has(digest)) return 'ok';
    if (this.failures.has(digest)) return 'denied';
    // The same credentials arriving together (several scrapes after a restart) share one bcrypt.
    let pending = this.inFlight.get(digest);
    if (!pending) {
      // One running plus maxWaiting queued.
      if (this.inFlight.size > this.maxWaiting) return 'busy';
      pending = this.tail.then(async () => {
        this.comparisons += 1;
        let matched = false;
        try {
          matched = await this.compare(password, hash);
        } catch {
          // A hash bcrypt cannot read matches nothing; the chain must never reject or later checks would stall.
        }
        const ok = matched && known !== undefined;
        (ok ? this.successes : this.failures).add(digest);
        this.inFlight.delete(digest);
        return ok;
      });
      this.tail = pending;
      this.inFlight.set(digest, pending);
    }
    return (await pending) ? 'ok' : 'denied';
  }
}
