import { describe, expect, it } from 'vitest';
import { binaryOr, FORMAT_MISMATCH, PARSE_ERROR_REASONS } from '../../src/exporter/parsers/request-fields.js';

// isBinary's cases are in bytes.test.ts; here, that binaryOr keeps the parser's reason for text.
describe('binaryOr', () => {
  it.each([
    ['plain text', Buffer.from('hello\tworld'), 'format_mismatch'],
    ['UTF-8', Buffer.from('gr\u00fc\u00dfe \u20ac \u{1f600}'), 'format_mismatch'],
    ['NUL', Buffer.from([0x61, 0x00]), 'binary'],
    ['invalid UTF-8', Buffer.from([0x61, 0xc0, 0xaf]), 'binary'],
  ])('%s -> %s', (_name, bytes, reason) => {
    expect(binaryOr(bytes, 0, bytes.length, FORMAT_MISMATCH).reason).toBe(reason);
  });

  it('reason codes index PARSE_ERROR_REASONS', () => {
    expect(PARSE_ERROR_REASONS[FORMAT_MISMATCH.code]).toBe('format_mismatch');
  });
});
