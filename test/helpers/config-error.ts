import { expect } from 'vitest';
import { ConfigError } from '../../src/exporter/errors.js';

/** The problems of the ConfigError `fn` throws; fails when it throws anything else, or nothing. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
