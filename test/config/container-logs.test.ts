import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/exporter/config/load.js';
import { ConfigError } from '../../src/exporter/errors.js';

const source = (over: Record<string, unknown>): unknown => ({
  logs: [{ name: 'pods', path: '/var/log/pods/*_crm-*/*/*.log', format: 'json', ...over }],
});

function problems(doc: unknown): string[] {
  try {
    parseConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('container log keys', () => {
  it.each([
    [
      'a glob with the CRI wrapper and path labels',
      { container_format: 'cri', path_labels: '^/var/log/pods/(?<namespace>[^_]+)_(?<pod>[^_]+)_' },
    ],
    ['the Docker wrapper', { path: '/var/lib/docker/containers/*/*-json.log', container_format: 'docker' }],
    ['one stream', { container_format: 'cri', container_stream: 'stdout' }],
    ['a plain path with a wrapper', { path: '/var/log/crm.log', container_format: 'cri' }],
    ['bounds', { max_files: 1, max_path_label_values: 10_000, path_labels: '(?<pod>[^/]+)/[^/]+/[^/]+$' }],
    ['a character class', { path: '/var/log/pods/[a-z]*/crm/[0-9].log' }],
  ])('accepts %s', (_what, over) => {
    expect(problems(source(over))).toEqual([]);
  });

  it('keeps the values', () => {
    const src = parseConfig(source({ container_format: 'docker', max_files: 7 })).logs[0];
    expect(src?.container_format).toBe('docker');
    expect(src?.max_files).toBe(7);
    expect(parseConfig(source({})).logs[0]?.container_format).toBeUndefined();
  });

  it.each([
    ['an unknown wrapper', { container_format: 'containerd' }, /logs\[0\]\.container_format/],
    [
      'a regex that does not compile',
      { path_labels: '(?<pod>[' },
      /logs\[0\]\.path_labels: not a valid regular expression/,
    ],
    ['no named group', { path_labels: '/pods/([^_]+)_' }, /logs\[0\]\.path_labels: must have at least one named group/],
    ['Python-style named groups', { path_labels: '(?P<pod>[^_]+)' }, /\(\?<name>\.\.\.\) \(JavaScript\)/],
    ['a group named like a label the exporter sets', { path_labels: '(?<route>[^_]+)' }, /group "route" clashes/],
    ['log', { path_labels: '(?<ns>[^_]+)_(?<log>[^_]+)' }, /group "log" clashes/],
    ['a reserved label name', { path_labels: '(?<__pod>[^_]+)' }, /group "__pod": label names starting with "__"/],
    ['a group name that is not a label name', { path_labels: '(?<p$d>[^_]+)' }, /group "p\$d" is not a label name/],
    ['"**"', { path: '/var/log/**/0.log' }, /logs\[0\]\.path: "\*\*" is not supported/],
    ['an unclosed class', { path: '/var/log/[ab/0.log' }, /logs\[0\]\.path: a "\[" in a glob must be closed/],
    ['max_files 0', { max_files: 0 }, /logs\[0\]\.max_files/],
    [
      'container_stream without a wrapper',
      { container_stream: 'stdout' },
      /container_stream: only allowed with container_format/,
    ],
    ['an unknown stream', { container_format: 'cri', container_stream: 'stdin' }, /logs\[0\]\.container_stream/],
    ['max_path_label_values 0', { max_path_label_values: 0 }, /logs\[0\]\.max_path_label_values/],
  ])('rejects %s', (_what, over, message) => {
    const found = problems(source(over));
    expect(
      found.some((p) => message.test(p)),
      found.join('\n'),
    ).toBe(true);
  });
});
