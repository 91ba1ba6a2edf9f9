import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPositions, savePositions } from '../../src/exporter/sources/positions.js';
import { HEAD_BYTES, type SavedPosition } from '../../src/exporter/sources/tailer.js';
import { hostileString } from '../helpers/hostile.js';

/*
 * Issue 11 B5: the positions file loader under hostile files (a crash mid-write on a file system without atomic
 * rename, a disk error, a hand edit, an attacker with write access to the state directory). loadPositions never
 * throws; whatever it returns is usable by the tailer (safe non-negative integers, a head of at most HEAD_BYTES);
 * source names are data (no prototype games); and a good file round-trips exactly.
 */
let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crm-positions-hostile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hostileNumber = fc.oneof(
  fc.nat(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, -1, -0, 1e308, Number.MAX_SAFE_INTEGER),
  fc.bigInt().map(String),
);
const base64ish = fc.oneof(
  fc.uint8Array({ maxLength: HEAD_BYTES + 8 }).map((b) => Buffer.from(b).toString('base64')),
  hostileString(30),
  fc.constantFrom('', '====', 'A', 'AA==', '!!!!'),
);
const entry: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: 'small' },
    fc.record(
      {
        inode: hostileNumber,
        offset: hostileNumber,
        head: base64ish,
        dev: fc.option(hostileNumber, { nil: undefined }),
        next: fc.option(tie('e'), { nil: undefined }),
      },
      { requiredKeys: [] },
    ),
    fc.constantFrom(null, 1, 'x', [], [1]),
  ),
})).e;
const names = fc.oneof(
  hostileString(12),
  fc.constantFrom('crm', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
);
const doc = fc.record(
  {
    version: fc.oneof(fc.constant(1), hostileNumber, fc.constant('1')),
    positions: fc.oneof(fc.dictionary(names, entry, { maxKeys: 5 }), fc.constantFrom(null, [], 'x')),
  },
  { requiredKeys: [] },
);
const fileText = fc.oneof(
  { weight: 4, arbitrary: doc.map((d) => JSON.stringify(d)) },
  {
    weight: 1,
    arbitrary: doc.map((d) => JSON.stringify(d)).chain((t) => fc.nat({ max: t.length }).map((cut) => t.slice(0, cut))),
  }, // torn
  { weight: 1, arbitrary: hostileString(100) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')) },
);

const usable = (p: unknown): boolean => {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  const nat = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  return (
    nat(o.inode) &&
    nat(o.offset) &&
    typeof o.head === 'string' &&
    Buffer.from(o.head, 'base64').length <= HEAD_BYTES &&
    (o.dev === undefined || nat(o.dev))
  );
};

describe('positions file under hostile content (issue 11 B5)', () => {
  it('never throws; returns only entries the tailer can use, keyed by name without touching any prototype', async () => {
    await fc.assert(
      fc.asyncProperty(fileText, async (text) => {
        const file = join(dir, `p${n++}.json`);
        await writeFile(file, text);
        const warnings: string[] = [];
        const loaded = await loadPositions(file, (m) => warnings.push(m));
        for (const w of warnings) expect(typeof w).toBe('string');
        for (const name of Object.keys(loaded)) {
          const p = loaded[name] as SavedPosition;
          expect(usable(p), `${JSON.stringify(name)}: ${JSON.stringify(p)}`).toBe(true);
          if (p.next !== undefined) expect(usable(p.next)).toBe(true);
        }
        expect(({} as Record<string, unknown>).inode).toBeUndefined(); // nothing leaked into Object.prototype
      }),
      { numRuns: 600 },
    );
  });

  it('a good file round-trips exactly, whatever the source names', async () => {
    const pos = fc.record({
      inode: fc.nat(),
      offset: fc.maxSafeNat(),
      head: fc.uint8Array({ maxLength: HEAD_BYTES }).map((b) => Buffer.from(b).toString('base64')),
    });
    const saved = fc.dictionary(
      names.filter((s) => s !== '__proto__'), // __proto__ as a name: A11 of issue 11 (see positions.test.ts)
      fc.tuple(pos, fc.option(pos, { nil: undefined })).map(([p, next]): SavedPosition => (next ? { ...p, next } : p)),
      { maxKeys: 5 },
    );
    await fc.assert(
      fc.asyncProperty(saved, async (positions) => {
        const file = join(dir, `r${n++}.json`);
        await savePositions(file, positions);
        const warnings: string[] = [];
        const loaded = await loadPositions(file, (m) => warnings.push(m));
        expect(warnings).toEqual([]);
        expect(Object.keys(loaded).sort()).toEqual(Object.keys(positions).sort());
        for (const name of Object.keys(positions)) expect(loaded[name]).toEqual(positions[name]);
      }),
      { numRuns: 300 },
    );
  });
});
