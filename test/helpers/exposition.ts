import { expect } from 'vitest';

/** Sums the samples of one metric in a Prometheus text exposition whose labels include every given pair. */
export function sampleSum(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '(?:[^"\\\\\\n]|\\\\[\\\\"n])*';
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="${LABEL_VALUE}")(?:,[a-zA-Z_][a-zA-Z0-9_]*="${LABEL_VALUE}")*\\}`;
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?|\\.\\d+)|NaN|[-+]Inf)';
const SAMPLE = new RegExp(`^(${NAME})(${LABELS})? (${VALUE})$`);
const HELP = new RegExp(`^# HELP ${NAME} (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const TYPE = new RegExp(
  `^# TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped|unknown|info|stateset|gaugehistogram)$`,
);
const UNIT = new RegExp(`^# UNIT ${NAME} [a-zA-Z0-9_]*$`);

const unescape = (v: string): string => v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));

/**
 * Fails (vitest expect) unless every line of a Prometheus text (or OpenMetrics) exposition is well formed: HELP and
 * TYPE lines, samples with valid names, label values escaped (only \\, \" and \n), numeric values. Returns the samples
 * with their label values unescaped.
 */
export function checkExposition(text: string, openMetrics: boolean): ExpositionSample[] {
  const lines = text.split('\n');
  if (openMetrics) {
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe('# EOF');
    lines.splice(-2);
  }
  const samples: ExpositionSample[] = [];
  for (const line of lines) {
    if (line === '') {
      expect(openMetrics, 'a blank line in OpenMetrics').toBe(false);
      continue;
    }
    if (line.startsWith('#')) {
      expect(
        HELP.test(line) || TYPE.test(line) || (openMetrics && UNIT.test(line)),
        `bad comment line: ${JSON.stringify(line)}`,
      ).toBe(true);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `bad sample line: ${JSON.stringify(line)}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)="(${LABEL_VALUE})"`, 'g'))) {
      expect((l[1] as string) in labels, `duplicate label in ${line}`).toBe(false);
      labels[l[1] as string] = unescape(l[2] as string);
    }
    samples.push({ name: m![1] as string, labels, value: Number(m![3]) });
  }
  return samples;
}
