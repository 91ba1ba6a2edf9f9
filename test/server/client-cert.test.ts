import { describe, expect, it } from 'vitest';
import { subjectAltNames } from '../../src/exporter/server/client-cert.js';

describe('subjectAltNames', () => {
  it.each([
    ['DNS:scraper.test, URI:spiffe://test/prometheus', ['scraper.test', 'spiffe://test/prometheus']],
    [
      'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, email:ops@example.com',
      ['127.0.0.1', '::1', 'ops@example.com'],
    ],
    ['DNS:"a, b.test", DNS:c.test', ['a, b.test', 'c.test']],
    ['DirName:CN=x, Registered ID:1.2.3, DNS:d.test', ['d.test']],
    ['', []],
    [undefined, []],
  ])('%s -> %o', (text, expected) => {
    expect(subjectAltNames(text)).toEqual(expected);
  });
});
