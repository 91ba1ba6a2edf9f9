import { describe, expect, it } from 'vitest';
import {
  firstDifference,
  lineStart,
  RecentBytes,
  RECENT_BYTES,
} from '../../../src/exporter/sources/tail/recent-bytes.js';

describe('firstDifference', () => {
  it.each([
    ['', '', -1],
    ['abc', 'abc', -1],
    ['abc', 'abd', 2],
    ['xbc', 'abc', 0],
    ['abc', 'abcdef', -1], // only the common length counts
  ])('%j vs %j -> %d', (a, b, want) => {
    expect(firstDifference(Buffer.from(a), Buffer.from(b))).toBe(want);
  });

  it('finds a single differing byte anywhere in 128 KiB', () => {
    const a = Buffer.alloc(2 * RECENT_BYTES, 0x61);
    for (const i of [0, 1, 63, 64, 65, 4095, RECENT_BYTES, 2 * RECENT_BYTES - 1]) {
      const b = Buffer.from(a);
      b[i] = 0x62;
      expect(firstDifference(a, b)).toBe(i);
    }
  });
});

describe('lineStart', () => {
  const bytes = Buffer.from('one\ntwo\nthree');
  it.each([
    [0, -1],
    [2, -1],
    [4, 4],
    [6, 4],
    [8, 8],
    [12, 8],
  ])('byte %d starts its line at %d', (i, want) => {
    expect(lineStart(bytes, i)).toBe(want);
  });
});

describe('RecentBytes', () => {
  const owner = {};
  it('remembers the newest bytes ending at the read position, across compactions', () => {
    const r = new RecentBytes();
    const all: number[] = [];
    let pos = 0;
    for (let i = 0; i < 500; i++) {
      const chunk = Buffer.alloc(1 + ((i * 997) % 3000), i % 251);
      r.append(owner, pos, chunk, 0, chunk.length);
      pos += chunk.length;
      all.push(...chunk);
      const w = r.window(owner, pos);
      expect(w.length).toBeGreaterThanOrEqual(Math.min(pos, RECENT_BYTES));
      expect(w.equals(Buffer.from(all.slice(all.length - w.length)))).toBe(true);
    }
  });

  it('a chunk larger than the window keeps its last RECENT_BYTES bytes', () => {
    const r = new RecentBytes();
    const chunk = Buffer.alloc(RECENT_BYTES + 10);
    chunk.writeUInt32BE(0xdeadbeef, chunk.length - 4);
    r.append(owner, 100, chunk, 0, chunk.length);
    const w = r.window(owner, 100 + chunk.length);
    expect(w.length).toBe(RECENT_BYTES);
    expect(w.readUInt32BE(RECENT_BYTES - 4)).toBe(0xdeadbeef);
  });

  it('another file or another position starts over empty; cutTo drops what lies beyond', () => {
    const r = new RecentBytes();
    r.append(owner, 0, Buffer.from('hello world'), 0, 11);
    expect(r.window({}, 11).length).toBe(0);
    r.append(owner, 0, Buffer.from('hello world'), 0, 11);
    expect(r.window(owner, 5).length).toBe(0);
    r.append(owner, 5, Buffer.from(' world'), 0, 6);
    r.cutTo(7);
    expect(r.window(owner, 7).toString()).toBe(' w');
  });
});
