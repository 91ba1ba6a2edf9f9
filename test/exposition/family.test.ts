import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  defineFamily,
  emitHistogram,
  extraLabels,
  isSampleLineWriter,
  registerFamily,
  type FamilyDefinition,
} from '../../src/exporter/exposition/family.js';
import { renderOpenMetrics } from '../../src/exporter/server/openmetrics.js';
import { renderPrometheusText } from '../../src/exporter/server/text-format.js';

const HOSTILE = 'quote " backslash \\ newline \n end';

/** The same families twice: as prom-client metrics set by hand, and as scrape-time families. */
function pair(): { promClient: Registry; families: Registry } {
  const promClient = new Registry();
  const c = new Counter({
    name: 'demo_events_total',
    help: 'Help \\ with\nescapes.',
    labelNames: ['kind', 'x'],
    registers: [promClient],
  });
  c.inc({ kind: HOSTILE, x: 'a' }, 3);
  c.inc({ kind: 'plain', x: 'b' }, 0.1 + 0.2);
  new Gauge({ name: 'demo_ratio', help: 'A gauge.', registers: [promClient] }).set(NaN);

  const families = new Registry();
  registerFamily(
    families,
    defineFamily({
      name: 'demo_events_total',
      help: 'Help \\ with\nescapes.',
      type: 'counter',
      labelNames: ['kind', 'x'],
    }),
    (emit) => {
      emit(3, [HOSTILE, 'a']);
      emit(0.1 + 0.2, ['plain', 'b']);
    },
  );
  registerFamily(
    families,
    defineFamily({ name: 'demo_ratio', help: 'A gauge.', type: 'gauge', labelNames: [] }),
    (emit) => emit(NaN),
  );
  return { promClient, families };
}

describe('scrape-time families', () => {
  it('render byte for byte what prom-client renders for the same samples, in both formats and through get()', async () => {
    const { promClient, families } = pair();
    expect(await renderPrometheusText(families)).toBe(await renderPrometheusText(promClient));
    expect(await renderOpenMetrics(families)).toBe(await renderOpenMetrics(promClient));
    // prom-client's own serialiser goes through get(), not writeSampleLines()
    expect(await families.metrics()).toBe(await promClient.metrics());
    expect(families.getMetricsAsArray().every(isSampleLineWriter)).toBe(true);
    expect(promClient.getMetricsAsArray().some(isSampleLineWriter)).toBe(false);
  });

  it('render histograms with le last, as the access-log families always have (test/golden/nginx.prom)', async () => {
    const registry = new Registry();
    const seconds = defineFamily({
      name: 'demo_seconds',
      help: 'A histogram.',
      type: 'histogram',
      labelNames: ['op'],
      buckets: [0.1, 1],
      unit: 'seconds',
    });
    registerFamily(registry, seconds, (emit) => emitHistogram(seconds, emit, ['read'], [1, 1], 3.05, 2));
    const samples = [
      'demo_seconds_bucket{op="read",le="0.1"} 1',
      'demo_seconds_bucket{op="read",le="1"} 1',
      'demo_seconds_bucket{op="read",le="+Inf"} 2',
      'demo_seconds_sum{op="read"} 3.05',
      'demo_seconds_count{op="read"} 2',
    ].join('\n');
    expect(await renderPrometheusText(registry)).toBe(
      `# HELP demo_seconds A histogram.\n# TYPE demo_seconds histogram\n${samples}\n`,
    );
    expect(await renderOpenMetrics(registry)).toBe(
      `# TYPE demo_seconds histogram\n# HELP demo_seconds A histogram.\n${samples}\n# EOF\n`,
    );
    // prom-client's serialiser (through get()) keeps the family's label order too
    expect(await registry.metrics()).toBe(
      `# HELP demo_seconds A histogram.\n# TYPE demo_seconds histogram\n${samples}\n`,
    );
  });

  it('render what the owner holds at each scrape: a series no longer there is not written', async () => {
    const registry = new Registry();
    let rows = [
      ['a', 1],
      ['b', 2],
    ] as Array<[string, number]>;
    registerFamily(
      registry,
      defineFamily({ name: 'demo_rows', help: 'Rows.', type: 'gauge', labelNames: ['t'] }),
      (emit) => {
        for (const [t, n] of rows) emit(n, [t]);
      },
    );
    expect(await renderPrometheusText(registry)).toContain('demo_rows{t="b"} 2\n');
    rows = [['a', 5]];
    expect(await renderPrometheusText(registry)).toBe(
      '# HELP demo_rows Rows.\n# TYPE demo_rows gauge\ndemo_rows{t="a"} 5\n',
    );
    rows = [];
    expect(await renderPrometheusText(registry)).toBe('# HELP demo_rows Rows.\n# TYPE demo_rows gauge\n');
  });

  it('are validated by prom-client (names, label names, duplicates) and by the family rules', () => {
    const ok: FamilyDefinition = { name: 'demo_x', help: 'x', type: 'gauge', labelNames: [] };
    const registry = new Registry();
    expect(() => registerFamily(registry, { ...ok, labelNames: ['bad-label'] }, () => undefined)).toThrow(
      /Invalid label name/,
    );
    expect(() => registerFamily(registry, { ...ok, name: 'bad name' }, () => undefined)).toThrow(/Invalid metric name/);
    registerFamily(registry, ok, () => undefined);
    expect(() => registerFamily(registry, ok, () => undefined)).toThrow(/already been registered/);

    expect(() => defineFamily({ ...ok, name: 'bad name' })).toThrow(/invalid metric name/);
    expect(() => defineFamily({ ...ok, type: 'counter' })).toThrow(/ends in _total/);
    expect(() => defineFamily({ ...ok, name: 'demo_x_total' })).toThrow(/only counter/);
    expect(() => defineFamily({ ...ok, unit: 'bytes' })).toThrow(/unit/);
    expect(() => defineFamily({ ...ok, labelNames: ['a', 'a'] })).toThrow(/duplicate/);
    expect(() => defineFamily({ ...ok, buckets: [1] })).toThrow(/only histograms/);
    expect(() => defineFamily({ ...ok, type: 'histogram', buckets: [1, 1] })).toThrow(/ascending/);
    expect(() => defineFamily({ ...ok, type: 'histogram', labelNames: ['le'], buckets: [1] })).toThrow(/reserved/);
    expect(defineFamily({ ...ok, name: 'demo_x_seconds_total', type: 'counter', unit: 'seconds' }).unit).toBe(
      'seconds',
    );
  });

  it('fail the render when an owner emits the wrong number of label values', async () => {
    const registry = new Registry();
    registerFamily(
      registry,
      defineFamily({ name: 'demo_y', help: 'y', type: 'gauge', labelNames: ['a', 'b'] }),
      (emit) => emit(1, ['only one']),
    );
    await expect(renderPrometheusText(registry)).rejects.toThrow(/1 label values for 2 label names/);
  });

  it("write a producer's extra labels where the family says, as prom-client writes the same labels", async () => {
    const promClient = new Registry();
    const c = new Counter({
      name: 'demo_lines_total',
      help: 'Lines.',
      labelNames: ['log', 'ns', 'pod', 'kind'],
      registers: [promClient],
    });
    c.inc({ log: 'app', kind: 'a' }, 1);
    c.inc({ log: 'web', ns: HOSTILE, pod: 'p-1', kind: 'b' }, 2);

    const families = new Registry();
    const lines = defineFamily({
      name: 'demo_lines_total',
      help: 'Lines.',
      type: 'counter',
      labelNames: ['log', 'kind'],
      extraLabelsAfter: 1,
    });
    const web = extraLabels(
      [lines],
      [
        ['ns', HOSTILE],
        ['pod', 'p-1'],
      ],
    );
    registerFamily(families, lines, (emit) => {
      emit(1, ['app', 'a']);
      emit(2, ['web', 'b'], '', web);
    });
    expect(await renderPrometheusText(families)).toContain(
      'demo_lines_total{log="web",ns="quote \\" backslash \\\\ newline \\n end",pod="p-1",kind="b"} 2\n',
    );
    expect(await renderPrometheusText(families)).toBe(await renderPrometheusText(promClient));
    expect(await renderOpenMetrics(families)).toBe(await renderOpenMetrics(promClient));
    expect(await families.metrics()).toBe(await promClient.metrics());
  });

  it('write extra labels of a histogram before le', async () => {
    const registry = new Registry();
    const seconds = defineFamily({
      name: 'demo_seconds',
      help: 'A histogram.',
      type: 'histogram',
      labelNames: ['log', 'op'],
      buckets: [1],
      extraLabelsAfter: 2,
    });
    const pod = extraLabels([seconds], [['pod', 'p']]);
    registerFamily(registry, seconds, (emit) => {
      emit(1, ['app', 'read', '1'], '_bucket', pod);
      emit(1, ['app', 'read', '+Inf'], '_bucket', pod);
      emit(0.5, ['app', 'read'], '_sum', pod);
      emit(1, ['app', 'read'], '_count', pod);
    });
    const samples = [
      'demo_seconds_bucket{log="app",op="read",pod="p",le="1"} 1',
      'demo_seconds_bucket{log="app",op="read",pod="p",le="+Inf"} 1',
      'demo_seconds_sum{log="app",op="read",pod="p"} 0.5',
      'demo_seconds_count{log="app",op="read",pod="p"} 1',
    ].join('\n');
    const text = `# HELP demo_seconds A histogram.\n# TYPE demo_seconds histogram\n${samples}\n`;
    expect(await renderPrometheusText(registry)).toBe(text);
    expect(await registry.metrics()).toBe(text);
  });

  it('check extra labels once, against every family that may carry them', async () => {
    const lines = defineFamily({
      name: 'demo_lines_total',
      help: 'Lines.',
      type: 'counter',
      labelNames: ['log', 'kind'],
      extraLabelsAfter: 1,
    });
    const seconds = defineFamily({ ...lines, name: 'demo_seconds', type: 'histogram', buckets: [1] });
    const fixed = defineFamily({ name: 'demo_fixed', help: 'Fixed.', type: 'gauge', labelNames: ['log'] });
    expect(extraLabels([lines, seconds], [['pod', 'p']]).pairs).toEqual([['pod', 'p']]);
    expect(() => extraLabels([lines], [['bad-name', 'x']])).toThrow(/"bad-name": invalid label name/);
    expect(() => extraLabels([lines], [['a:b', 'x']])).toThrow(/invalid label name/);
    expect(() => extraLabels([lines], [['__pod', 'x']])).toThrow(/reserved/);
    expect(() =>
      extraLabels(
        [lines],
        [
          ['pod', 'x'],
          ['pod', 'y'],
        ],
      ),
    ).toThrow(/duplicate label name/);
    expect(() => extraLabels([lines, seconds], [['kind', 'x']])).toThrow(/"kind": a label of demo_lines_total/);
    expect(() => extraLabels([lines, seconds], [['le', 'x']])).toThrow(/"le": a label of demo_seconds/);
    expect(() => extraLabels([lines, fixed], [['pod', 'x']])).toThrow(/demo_fixed takes no extra labels/);
    expect(() => defineFamily({ ...fixed, extraLabelsAfter: 0 })).toThrow(/extraLabelsAfter/);
    expect(() => defineFamily({ ...fixed, extraLabelsAfter: 2 })).toThrow(/extraLabelsAfter/);

    // pairs checked for another family are refused at the render: the family did not check them
    const registry = new Registry();
    const other = extraLabels([seconds], [['pod', 'p']]);
    registerFamily(registry, lines, (emit) => emit(1, ['app', 'a'], '', other));
    await expect(renderPrometheusText(registry)).rejects.toThrow(/demo_lines_total: extra labels not checked for it/);
  });
});
