import { describe, expect, it } from 'vitest';
import { HTTP_METHODS, methodFromBytes, methodFromString, methodName } from '../../src/exporter/parsers/http-method.js';

const id = (text: string): number => {
  const b = Buffer.from(`xx${text}yy`, 'latin1');
  return methodFromBytes(b, 2, 2 + Buffer.byteLength(text, 'latin1'));
};

describe('methodFromBytes', () => {
  it.each(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])(
    '%s is its own label',
    (m) => {
      expect(methodName(id(m))).toBe(m);
      expect(methodName(methodFromString(m))).toBe(m);
    },
  );

  it.each([
    ['get', 'lower case'],
    ['Get', 'mixed case'],
    ['PROPFIND', 'WebDAV'],
    ['BREW', 'unknown'],
    ['', 'empty'],
    ['GETX', 'prefix of a known method'],
    ['GE', 'shorter than a known method'],
    ['OTHER', 'the fallback label itself'],
    ['\u00ff\u0000\u0001', 'binary'],
  ])('%j (%s) is OTHER', (m) => {
    expect(methodName(id(m))).toBe('OTHER');
    expect(methodName(methodFromString(m))).toBe('OTHER');
  });

  it('has a fixed, bounded label set', () => {
    expect(HTTP_METHODS).toHaveLength(10);
    expect(methodName(99)).toBe('OTHER');
  });
});
