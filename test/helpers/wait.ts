import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it returns a value other than undefined, and returns that value: a bounded wait, not a timing
 * assertion. A check that throws counts as "not yet"; after `timeoutMs` the last error (or a timeout naming `what`)
 * is thrown.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what = 'the condition',
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`, { cause: lastError });
    await sleep(25);
  }
}
