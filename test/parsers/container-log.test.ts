import { describe, expect, it } from 'vitest';
import {
  ContainerLogDecoder,
  type ContainerStream,
  type UnwrappedSink,
} from '../../src/exporter/parsers/container-log.js';

/** Records what the decoder hands on: lines, then `<oversized>` / `<malformed>` in order. */
class Sink implements UnwrappedSink {
  readonly out: string[] = [];
  line(buf: Buffer, start: number, end: number): void {
    this.out.push(buf.toString('utf8', start, end));
  }
  oversized(): void {
    this.out.push('<oversized>');
  }
  malformed(): void {
    this.out.push('<malformed>');
  }
}

function decode(
  format: 'cri' | 'docker',
  records: string[],
  max = 1024,
  stream: ContainerStream = 'both',
): { out: string[]; joining: boolean } {
  const sink = new Sink();
  const d = new ContainerLogDecoder(format, max, sink, stream);
  for (const r of records) {
    // each record inside a larger buffer, as the tailer hands them
    const b = Buffer.from(`xx${r}yy`);
    d.line(b, 2, b.length - 2);
  }
  return { out: sink.out, joining: d.joining };
}

const T = '2026-12-01T04:05:06.123456789Z';

describe('CRI records', () => {
  it.each([
    ['a full record', [`${T} stdout F {"status":200}`], ['{"status":200}']],
    ['stderr too', [`${T} stderr F hello world`], ['hello world']],
    ['an empty message', [`${T} stdout F `, `${T} stdout F`], ['', '']],
    ['spaces kept inside the message', [`${T} stdout F  a  b `], [' a  b ']],
    ['partials joined up to F', [`${T} stdout P ab`, `${T} stdout P cd`, `${T} stdout F ef`], ['abcdef']],
    [
      'streams joined separately',
      [`${T} stdout P a1`, `${T} stderr P b1`, `${T} stderr F b2`, `${T} stdout F a2`],
      ['b1b2', 'a1a2'],
    ],
    ['further tags after P/F', [`${T} stdout P:x a`, `${T} stdout F:y b`], ['ab']],
    ['a lowercase offset time', [`2026-12-01T04:05:06.1+01:00 stdout F x`], ['x']],
  ])('%s', (_what, records, want) => {
    expect(decode('cri', records).out).toEqual(want);
  });

  it.each([
    ['no fields', 'garbage'],
    ['a short time', '12:00 stdout F x'],
    ['a time not starting with a digit', `x${T} stdout F x`],
    ['an unknown stream', `${T} stdin F x`],
    ['a longer stream name', `${T} stdouts F x`],
    ['a stream cut short', `${T} stdou`],
    ['an unknown tag', `${T} stdout X x`],
    ['a tag glued to text', `${T} stdout Fx y`],
    ['no tag', `${T} stdout`],
    ['a plain access-log line', '{"method":"GET","path":"/","status":200}'],
  ])('%s is malformed, the next record still decodes', (_what, bad) => {
    expect(decode('cri', [bad, `${T} stdout F ok`]).out).toEqual(['<malformed>', 'ok']);
  });

  it('a joined line over max is one oversized line; its parts are dropped and the next line is whole', () => {
    const part = 'x'.repeat(300);
    const records = [`${T} stdout P ${part}`, `${T} stdout P ${part}`, `${T} stdout F ${part}`, `${T} stdout F next`];
    expect(decode('cri', records, 512).out).toEqual(['<oversized>', 'next']);
    expect(decode('cri', records.slice(0, 2), 512).joining).toBe(true);
  });

  it('a joined line of exactly max bytes is delivered', () => {
    const out = decode('cri', [`${T} stdout P ${'a'.repeat(256)}`, `${T} stdout F ${'b'.repeat(256)}`], 512).out;
    expect(out).toEqual(['a'.repeat(256) + 'b'.repeat(256)]);
  });

  it('an oversized wrapped record is counted once', () => {
    const sink = new Sink();
    new ContainerLogDecoder('cri', 256, sink).oversized();
    expect(sink.out).toEqual(['<oversized>']);
  });
});

describe('Docker json-file records', () => {
  const rec = (log: string, stream = 'stdout'): string =>
    JSON.stringify({ log, stream, time: '2026-12-01T04:05:06.123456789Z' });

  it.each([
    ['a line', [rec('{"status":200}\n')], ['{"status":200}']],
    [
      'escapes undone',
      [rec('{"path":"/a\\"b","t":"\t","u":"é€😀<>&"}\n')],
      ['{"path":"/a\\"b","t":"\t","u":"é€😀<>&"}'],
    ],
    ['stderr', [rec('oops\n', 'stderr')], ['oops']],
    ['chunks without \\n joined', [rec('ab'), rec('cd'), rec('ef\n')], ['abcdef']],
    [
      'streams joined separately',
      [rec('a1'), rec('b1', 'stderr'), rec('b2\n', 'stderr'), rec('a2\n')],
      ['b1b2', 'a1a2'],
    ],
    ['an empty line', [rec('\n')], ['']],
    ['keys in another order (slow path)', ['{"stream":"stdout","log":"x\\n","time":"t"}'], ['x']],
    ['spaces after the brace (slow path)', ['{ "log": "y\\n", "stream": "stderr" }'], ['y']],
    ['no stream key', ['{"log":"z\\n"}'], ['z']],
    ['stream after time', ['{"log":"e\\n","time":"t","stream":"stderr"}', '{"log":"o\\n","time":"t"}'], ['e', 'o']],
  ])('%s', (_what, records, want) => {
    expect(decode('docker', records).out).toEqual(want);
  });

  it('Go-style \\u escapes (<, >, &, U+2028, surrogate pairs) and a lone surrogate', () => {
    const out = decode('docker', [
      '{"log":"\\u003ca\\u003e\\u0026\\u2028\\ud83d\\ude00\\ud800!\\n","stream":"stdout","time":"t"}',
    ]).out;
    expect(out).toEqual(['<a>&\u2028😀\ufffd!']);
  });

  it.each([
    ['not JSON', 'plain text'],
    ['a broken escape', '{"log":"a\\qb\\n","stream":"stdout"}'],
    ['a short \\u escape', '{"log":"\\u12"}'],
    ['an unterminated string', '{"log":"abc'],
    ['log not a string', '{"log":5,"stream":"stdout"}'],
    ['an unknown stream', '{"log":"x\\n","stream":"stdin"}'],
    ['an unknown stream (slow path)', '{"stream":"stdin","log":"x\\n"}'],
    ['a raw control character', '{"log":"a\tb\\n"}'],
  ])('%s is malformed, the next record still decodes', (_what, bad) => {
    expect(decode('docker', [bad, rec('ok\n')]).out).toEqual(['<malformed>', 'ok']);
  });

  it('a joined line over max is one oversized line', () => {
    const chunk = 'y'.repeat(200);
    expect(decode('docker', [rec(chunk), rec(chunk), rec(`${chunk}\n`), rec('n\n')], 512).out).toEqual([
      '<oversized>',
      'n',
    ]);
  });
});

describe('container_stream', () => {
  it.each([
    ['stdout', ['out1', 'out2']],
    ['stderr', ['err1']],
    ['both', ['out1', 'err1', 'out2']],
  ] as const)('%s: records of the other stream are skipped, not counted; malformed ones still are', (stream, want) => {
    const cri = [`${T} stdout F out1`, `${T} stderr P err`, `${T} stderr F 1`, `${T} stdout F out2`];
    expect(decode('cri', cri, 1024, stream).out).toEqual(want);
    const docker = [
      '{"log":"out1\\n","stream":"stdout"}',
      '{"log":"err","stream":"stderr"}',
      '{"stream":"stderr","log":"1\\n"}',
      '{"log":"out2\\n","stream":"stdout"}',
    ];
    expect(decode('docker', docker, 1024, stream).out).toEqual(want);
    expect(decode('cri', ['garbage'], 1024, stream).out).toEqual(['<malformed>']);
  });
});
