import { describe, expect, it } from 'vitest';
import {
  ByteKeyCache,
  DataViewCache,
  dataViewOf,
  equalsIgnoreCase,
  equalsWords,
  hashBytes,
  hashWords,
  IntMap,
  isBinary,
  isDash,
  parseDecimal,
  parseUint,
  scanned,
  scanNumber,
  skipPlainJsonWords,
  toWords,
} from '../../src/exporter/parsers/bytes.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseDecimal', () => {
  it.each([
    '0',
    '1',
    '-1',
    '0.5',
    '12.345',
    '0.001',
    '100000',
    '-0',
    '007',
    '00.25',
    '3.14159265358979',
    '999999999999999',
    '1e3',
    '1.5E-3',
    '2e+2',
    '1e400',
    '123456789012345678',
    '9007199254740993',
    '0.1234567890123456789',
    '0.0000000000000000000001',
  ])('%s equals Number()', (text) => {
    // surrounded by other bytes: only the range counts
    expect(parseDecimal(b(`x${text}y`), 1, 1 + text.length)).toBe(Number(text));
  });

  it.each([
    '',
    '-',
    '.5',
    '1.',
    '1..2',
    '1.2.3',
    'abc',
    '0x10',
    'Infinity',
    'NaN',
    '+1',
    '1e',
    '1e+',
    '1e5x',
    ' 1',
    '1 ',
    '--1',
    '1-',
    '١٢',
  ])('%j is not a number', (text) => {
    const buf = Buffer.from(text, 'utf8');
    expect(parseDecimal(buf, 0, buf.length)).toBeNaN();
  });

  it('reads a long run of digits like Number() (no overflow of the mantissa)', () => {
    const text = `${'9'.repeat(400)}.5`;
    expect(parseDecimal(b(text), 0, text.length)).toBe(Number(text));
    const zeros = `0.${'0'.repeat(300)}1`;
    expect(parseDecimal(b(zeros), 0, zeros.length)).toBe(Number(zeros));
  });
});

describe('scanNumber', () => {
  it.each([
    // text, json, where the number ends (-1: none), its value
    ['12,', true, 2, 12],
    ['-0.5}', true, 4, -0.5],
    ['1.5e3 ', true, 5, 1500],
    ['0', true, 1, 0],
    ['0,', true, 1, 0],
    ['007', true, -1, NaN],
    ['007', false, 3, 7],
    ['-', true, -1, NaN],
    ['-x', true, -1, NaN],
    ['x', true, -1, NaN],
    ['', true, -1, NaN],
    ['1.', true, -1, NaN],
    ['1.x', true, -1, NaN],
    ['1e', true, -1, NaN],
    ['1e-', true, -1, NaN],
    ['1E-2"', true, 4, 0.01],
    ['12345678901234567890,', true, 20, Number('12345678901234567890')],
  ])('%j (json %s) ends at %d', (text, json, at, value) => {
    const buf = b(text);
    scanned[0] = 42;
    const end = scanNumber(buf, 0, buf.length, json);
    expect(end).toBe(at);
    if (at >= 0) expect(scanned[0]).toBe(value);
  });

  it('stops at `end` even when digits follow in the buffer', () => {
    const buf = b('123456');
    expect(scanNumber(buf, 0, 3, true)).toBe(3);
    expect(scanned[0]).toBe(123);
    expect(scanNumber(buf, 1, 1, true)).toBe(-1);
  });
});

describe('parseUint', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['007', 7],
    ['999999999999999', 999999999999999],
    ['1234567890123456', -1], // 16 digits: over the limit, not rounded
    ['', -1],
    ['-1', -1],
    ['1.0', -1],
    ['1a', -1],
    [' 1', -1],
  ])('%j -> %d', (text, value) => {
    expect(parseUint(b(text), 0, text.length)).toBe(value);
  });
});

describe('small words', () => {
  it.each([
    ['', true],
    ['-', true],
    ['--', false],
    ['0', false],
  ])('isDash(%j) is %s', (text, dash) => {
    expect(isDash(b(text), 0, text.length)).toBe(dash);
  });

  it.each([
    ['hit', 'hit', true],
    ['HIT', 'hit', true],
    ['hIt', 'hit', true],
    ['hi', 'hit', false],
    ['hits', 'hit', false],
    ['jit', 'hit', false],
    ['', '', true],
    ['[', '{', false], // 0x5b is not an upper-case letter
  ])('equalsIgnoreCase(%j, %j) is %s', (text, word, equal) => {
    expect(equalsIgnoreCase(b(`.${text}.`), 1, 1 + text.length, word)).toBe(equal);
  });
});

describe('isBinary', () => {
  it.each([
    ['empty', Buffer.alloc(0), false],
    ['plain text with a tab', Buffer.from('hello\tworld'), false],
    ['UTF-8', Buffer.from('gr\u00fc\u00dfe \u20ac \u{1f600}'), false],
    ['a long line of text', Buffer.from('é'.repeat(10_000)), false],
    ['NUL', Buffer.from([0x61, 0x00]), true],
    ['DEL', Buffer.from([0x61, 0x7f]), true],
    ['ESC', Buffer.from([0x1b, 0x5b]), true],
    ['newline', Buffer.from([0x61, 0x0a]), true],
    ['lone continuation byte', Buffer.from([0x80]), true],
    ['overlong', Buffer.from([0xc0, 0xaf]), true],
    ['overlong three bytes', Buffer.from([0xe0, 0x80, 0xaf]), true],
    ['truncated sequence', Buffer.from([0x61, 0xe2, 0x82]), true],
    ['surrogate', Buffer.from([0xed, 0xa0, 0x80]), true],
    ['beyond U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), true],
    ['0xff', Buffer.from([0xff]), true],
  ])('%s -> %s', (_name, bytes, binary) => {
    expect(isBinary(bytes, 0, bytes.length)).toBe(binary);
  });

  it('looks only at its range', () => {
    const buf = Buffer.from([0x00, 0x61, 0x62, 0xff]);
    expect(isBinary(buf, 1, 3)).toBe(false);
    // a sequence cut by the end of the range is not valid inside it
    const euro = Buffer.from('a€', 'utf8');
    expect(isBinary(euro, 0, euro.length - 1)).toBe(true);
  });
});

describe('skipPlainJsonWords', () => {
  it.each([
    // contents, index of the first stop byte (or the length)
    ['', 0],
    ['abc', 0], // under four bytes: nothing skipped
    ['abcdefgh"', 8],
    ['abcdefgh\\"', 8],
    ['abcdef\u0001gh', 4],
    ['ab"cdefgh', 0],
    ['abcd\u00e9\u00e9\u00e9\u00e9"', 12], // bytes >= 0x80 never stop it
    ['abcde\u007f"', 4], // DEL is a plain string byte: stops only at the quote's word
  ])('%j: skips to %d at the latest', (text, stop) => {
    const buf = Buffer.from(text, 'utf8');
    const at = skipPlainJsonWords(dataViewOf(buf), 0, buf.length);
    // never past the first stop byte, never more than three bytes short of it
    const first = [...buf].findIndex((c) => c === 0x22 || c === 0x5c || c < 0x20);
    const limit = first < 0 ? buf.length : first;
    expect(at).toBeLessThanOrEqual(limit);
    expect(limit - at).toBeLessThan(4);
    expect(at).toBe(stop);
  });

  it('stops at `end`', () => {
    const buf = b('abcdefghijkl');
    expect(skipPlainJsonWords(dataViewOf(buf), 0, 6)).toBe(4);
  });
});

describe('toWords and equalsWords', () => {
  it.each(['', 'a', 'abc', 'abcd', 'abcde', 'status', 'duration_ms', 'lock_wait_ms', 'a'.repeat(33)])(
    '%j equals itself at any offset and no other key of its length',
    (key) => {
      const k = b(key);
      const words = toWords(k);
      expect(words.length).toBe(key.length < 4 ? 0 : Math.ceil(key.length / 4));
      const line = b(`{"${key}":1}`);
      const dv = dataViewOf(line);
      expect(equalsWords(dv, line, 2, k, words)).toBe(true);
      for (let i = 0; i < key.length; i++) {
        const other = Buffer.from(line);
        other[2 + i] = (other[2 + i] as number) ^ 0x01;
        expect(equalsWords(dataViewOf(other), other, 2, k, words), `byte ${i}`).toBe(false);
      }
    },
  );
});

describe('DataViewCache', () => {
  it('builds a view once per buffer, over that buffer only', () => {
    const cache = new DataViewCache();
    const big = Buffer.from('xxxxabcdyyyy');
    const part = big.subarray(4, 8);
    const v = cache.of(part);
    expect(cache.of(part)).toBe(v);
    expect(v.byteLength).toBe(4);
    expect(v.getInt32(0, true)).toBe(b('abcd').readInt32LE(0));
    const other = Buffer.from('abcd');
    expect(cache.of(other)).not.toBe(v);
  });
});

describe('hashWords', () => {
  it('depends on the bytes only, not on where they are', () => {
    const a = b('--/api/customers/:id--');
    const c = b('/api/customers/:id');
    expect(hashWords(dataViewOf(a), a, 2, a.length - 2)).toBe(hashBytes(c));
  });

  it('tells apart keys that differ in one byte, in the tail, or in length', () => {
    const keys = ['', 'a', 'b', 'ab', 'abc', 'abcd', 'abcde', 'abcdf', '/x/1', '/x/2', '\u0000', '\u0000\u0000'];
    const hashes = new Set(keys.map((k) => hashBytes(b(k))));
    expect(hashes.size).toBe(keys.length);
  });

  it('spreads sequential keys over the low bits (what a table indexes with)', () => {
    const low = new Set<number>();
    for (let i = 0; i < 1024; i++) low.add(hashBytes(b(`/api/items/${i}`)) & 1023);
    expect(low.size).toBeGreaterThan(550); // a random function fills ~632 of 1024 slots
  });
});

describe('ByteKeyCache', () => {
  const k = (s: string): Buffer => Buffer.from(s);

  it('finds what it stored and nothing else, and does not store keys over its limit', () => {
    const c = new ByteKeyCache(4, 64, 8);
    c.set(k('abc'), 0, 3, 1, 10);
    c.set(k('abd'), 0, 3, 1, 11); // same hash, different bytes
    expect(c.get(k('abc'), 0, 3, 1)).toBe(10);
    expect(c.get(k('abd'), 0, 3, 1)).toBe(11);
    expect(c.get(k('abe'), 0, 3, 1)).toBe(-1);
    expect(c.get(k('ab'), 0, 2, 1)).toBe(-1); // same hash, a prefix
    c.set(k('123456789'), 0, 9, 5, 12);
    expect(c.get(k('123456789'), 0, 9, 5)).toBe(-1);
    expect(c.size).toBe(2);
    c.set(k('x'), 0, 1, 2, 1);
    c.set(k('y'), 0, 1, 3, 2);
    c.set(k('z'), 0, 1, 4, 3); // fifth entry: cleared first
    expect(c.clears).toBe(1);
    expect(c.get(k('abc'), 0, 3, 1)).toBe(-1);
    expect(c.get(k('z'), 0, 1, 4)).toBe(3);
  });

  it('compares keys read from inside a larger buffer, and clears when its bytes run out', () => {
    const c = new ByteKeyCache(100, 16, 16);
    const line = k('GET /api/customers/12 HTTP/1.1');
    const key = (s: number, e: number): number => hashWords(dataViewOf(line), line, s, e);
    c.set(line, 4, 14, key(4, 18), 7); // "/api/customers"
    expect(c.get(k('/api/customers'), 0, 14, hashBytes(k('/api/customers')))).toBe(7);
    c.set(k('/abc'), 0, 4, hashBytes(k('/abc')), 8); // 14 + 4 > 16 bytes: cleared first
    expect(c.clears).toBe(1);
    expect(c.get(line, 4, 14, key(4, 18))).toBe(-1);
    expect(c.get(k('/abc'), 0, 4, hashBytes(k('/abc')))).toBe(8);
  });

  it('agrees with a Map over many keys', () => {
    const c = new ByteKeyCache(4096);
    const model = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const s = `/route/${(i * 7919) % 1000}/${i % 3 === 0 ? 'x'.repeat(i % 40) : ''}`;
      const key = k(s);
      if (c.get(key, 0, key.length, hashBytes(key)) < 0) {
        c.set(key, 0, key.length, hashBytes(key), i);
        model.set(s, i);
      }
    }
    expect(c.size).toBe(model.size);
    for (const [s, v] of model) expect(c.get(k(s), 0, k(s).length, hashBytes(k(s)))).toBe(v);
  });
});

describe('IntMap', () => {
  it('answers -1 for a missing key and the last value set for a present one', () => {
    const m = new IntMap(4);
    expect(m.get(0)).toBe(-1);
    m.set(0, 5);
    m.set(0, 6);
    expect(m.get(0)).toBe(6);
    expect(m.size).toBe(1);
  });

  it('grows past its initial capacity and agrees with a Map (large and colliding keys)', () => {
    const m = new IntMap(4);
    const model = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const key = i % 2 === 0 ? i * 1024 : 0x7fffffff - i; // multiples of the table size, and the largest int32s
      m.set(key, i);
      model.set(key, i);
    }
    expect(m.size).toBe(model.size);
    for (const [key, v] of model) expect(m.get(key)).toBe(v);
    expect(m.get(3)).toBe(-1);
  });
});
