import { describe, expect, it } from 'vitest';
import {
  binaryOr,
  cacheResultFromBytes,
  FORMAT_MISMATCH,
  lockResultFromBytes,
  PARSE_ERROR_REASONS,
  parseDecimal,
  parseUint,
} from '../../src/exporter/parsers/request-fields.js';

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
    '3.14159265358979',
    '1e3',
    '1.5E-3',
    '2e+2',
    '123456789012345678',
    '0.1234567890123456789',
  ])('%s equals Number()', (text) => {
    expect(parseDecimal(b(`x${text}y`), 1, 1 + text.length)).toBe(Number(text));
  });

  it.each(['', '-', '.5', '1.', '1..2', '1.2.3', 'abc', '0x10', 'Infinity', 'NaN', '+1', '1e', '1e+', ' 1', '1 '])(
    '%j is not a number',
    (text) => {
      expect(parseDecimal(b(text), 0, text.length)).toBeNaN();
    },
  );
});

describe('parseUint', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['999999999999999', 999999999999999],
    ['1234567890123456', -1],
    ['', -1],
    ['-1', -1],
    ['1.0', -1],
    ['1a', -1],
  ])('%j -> %d', (text, value) => {
    expect(parseUint(b(text), 0, text.length)).toBe(value);
  });
});

describe('outcomes', () => {
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

describe('binaryOr', () => {
  it.each([
    ['plain text', Buffer.from('hello\tworld'), 'format_mismatch'],
    ['UTF-8', Buffer.from('gr\u00fc\u00dfe \u20ac \u{1f600}'), 'format_mismatch'],
    ['NUL', Buffer.from([0x61, 0x00]), 'binary'],
    ['DEL', Buffer.from([0x61, 0x7f]), 'binary'],
    ['ESC', Buffer.from([0x1b, 0x5b]), 'binary'],
    ['lone continuation byte', Buffer.from([0x80]), 'binary'],
    ['overlong', Buffer.from([0xc0, 0xaf]), 'binary'],
    ['truncated sequence', Buffer.from([0x61, 0xe2, 0x82]), 'binary'],
    ['surrogate', Buffer.from([0xed, 0xa0, 0x80]), 'binary'],
    ['beyond U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), 'binary'],
  ])('%s -> %s', (_name, bytes, reason) => {
    expect(binaryOr(bytes, 0, bytes.length, FORMAT_MISMATCH).reason).toBe(reason);
  });

  it('reason codes index PARSE_ERROR_REASONS', () => {
    expect(PARSE_ERROR_REASONS[FORMAT_MISMATCH.code]).toBe('format_mismatch');
  });
});
