import { parseInfoNumber } from '../../parsers/redis-info.js';
import { snapshotFamily } from '../collector.js';
import { defineFamily } from '../../exposition/family.js';

/* SLOWLOG LEN: the command, its reply mapping and its family. */

export const SLOWLOG_COMMAND = ['SLOWLOG', 'LEN'];

/** The reply to SLOWLOG LEN (an integer; a proxy may answer a string): undefined when it is not a number. */
export function mapSlowlogReply(reply: unknown): number | undefined {
  return typeof reply === 'number' ? reply : parseInfoNumber(String(reply));
}

export const SLOWLOG_FAMILY = snapshotFamily(
  defineFamily({
    name: 'crm_redis_slowlog_length',
    help: 'SLOWLOG LEN (entries in the slow log, at most slowlog-max-len).',
    type: 'gauge',
    labelNames: [],
  }),
  (length: number | undefined, emit) => {
    if (length !== undefined) emit(length);
  },
);
