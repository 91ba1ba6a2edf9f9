import { describe, expect, it } from 'vitest';
import {
  CACHE_RESULTS,
  cacheResultFromBytes,
  LOCK_RESULTS,
  lockResultFromBytes,
  OUTCOME_ABSENT,
  OUTCOME_OTHER,
} from '../../src/exporter/parsers/outcomes.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('outcome words', () => {
  it.each([
    ['hit', 0],
    ['HIT', 0],
    ['Miss', 1],
    ['bypass', 2],
    ['EXPIRED', 3],
    ['-', -1],
    ['', -1],
  ])('cache %j -> %d', (text, id) => {
    expect(cacheResultFromBytes(b(text), 0, text.length)).toBe(id);
  });

  it.each([
    ['acquired', 0],
    ['contended', 1],
    ['TIMEOUT', 2],
    ['denied', 3],
    ['-', -1],
  ])('lock %j -> %d', (text, id) => {
    expect(lockResultFromBytes(b(text), 0, text.length)).toBe(id);
  });
});

describe('outcome vocabularies', () => {
  it('end in other, the id every unknown word gets', () => {
    expect(CACHE_RESULTS[OUTCOME_OTHER]).toBe('other');
    expect(LOCK_RESULTS[OUTCOME_OTHER]).toBe('other');
    expect(cacheResultFromBytes(b('hits'), 0, 4)).toBe(OUTCOME_OTHER);
    expect(lockResultFromBytes(b('-'), 0, 1)).toBe(OUTCOME_ABSENT);
  });
});
