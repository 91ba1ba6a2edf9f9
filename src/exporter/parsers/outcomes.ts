/**
 * The bounded label vocabularies of cache and lock outcomes (`crm_cache_lookups_total{result}`,
 * `crm_lock_acquisitions_total{result}`), recognised from bytes as small ids. Like the methods (http-method.ts),
 * anything outside the fixed words becomes `other`, so a log cannot create label values.
 */

import { equalsIgnoreCase, isDash } from './bytes.js';

/** Cache outcomes (`crm_cache_lookups_total{result}`); anything else is `other`. */
export const CACHE_RESULTS = ['hit', 'miss', 'bypass', 'other'] as const;
/** Lock outcomes (`crm_lock_acquisitions_total{result}`); anything else is `other`. */
export const LOCK_RESULTS = ['acquired', 'contended', 'timeout', 'other'] as const;
/** Ids per vocabulary (the size of a per-outcome table). */
export const OUTCOME_COUNT = 4;
/** The id of `other` in both vocabularies. */
export const OUTCOME_OTHER = 3;
/** No outcome was logged. */
export const OUTCOME_ABSENT = -1;

/** Cache outcome id (case-insensitive: nginx writes HIT/MISS/BYPASS); "" and "-" are absent. */
export function cacheResultFromBytes(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  const c = (buf[start] as number) | 0x20;
  if (n === 3 && c === 0x68 && equalsIgnoreCase(buf, start, end, 'hit')) return 0;
  if (n === 4 && c === 0x6d && equalsIgnoreCase(buf, start, end, 'miss')) return 1;
  if (n === 6 && c === 0x62 && equalsIgnoreCase(buf, start, end, 'bypass')) return 2;
  return isDash(buf, start, end) ? OUTCOME_ABSENT : OUTCOME_OTHER;
}

/** Lock outcome id (case-insensitive); "" and "-" are absent. */
export function lockResultFromBytes(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  const c = (buf[start] as number) | 0x20;
  if (n === 8 && c === 0x61 && equalsIgnoreCase(buf, start, end, 'acquired')) return 0;
  if (n === 9 && c === 0x63 && equalsIgnoreCase(buf, start, end, 'contended')) return 1;
  if (n === 7 && c === 0x74 && equalsIgnoreCase(buf, start, end, 'timeout')) return 2;
  return isDash(buf, start, end) ? OUTCOME_ABSENT : OUTCOME_OTHER;
}
