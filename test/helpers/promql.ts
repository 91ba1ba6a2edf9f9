import { parser } from '@prometheus-io/lezer-promql';

/*
 * PromQL read with Prometheus's own grammar (the lezer parser of its web UI), never with regexes: a metric name is an
 * Identifier inside a VectorSelector (or a `__name__="..."` matcher), so function names, label names, string
 * arguments of label_replace and keywords are never mistaken for metrics.
 */

export interface ParsedPromQL {
  /** Metric names the expression selects. */
  metrics: string[];
  /** Syntax errors: the text around each error node (empty when the expression parses). */
  errors: string[];
}

export function parsePromQL(expr: string): ParsedPromQL {
  const metrics = new Set<string>();
  const errors: string[] = [];
  const text = (from: number, to: number): string => expr.slice(from, to);
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(`at ${node.from}: "${text(Math.max(0, node.from - 20), node.from + 20)}"`);
        return;
      }
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) metrics.add(text(name.from, name.to));
      }
      // {__name__="x"}: the name as a label matcher (exact matches only; a regex names no single metric).
      if (node.name === 'UnquotedLabelMatcher') {
        const label = node.node.getChild('LabelName');
        const op = node.node.getChild('MatchOp');
        const value = node.node.getChild('StringLiteral');
        if (label && op && value && text(label.from, label.to) === '__name__' && text(op.from, op.to) === '=') {
          metrics.add(JSON.parse(text(value.from, value.to)) as string);
        }
      }
    },
  });
  return { metrics: [...metrics].sort(), errors };
}

/**
 * The series names a text exposition serves: each family from its `# TYPE` line, with the `_bucket`, `_count` and
 * `_sum` series of histograms and the `_count` and `_sum` of summaries.
 */
export function exposedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const [hash, keyword, name, type] = line.split(' ');
    if (hash !== '#' || keyword !== 'TYPE' || !name) continue;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_count', '_sum']) names.add(`${name}${suffix}`);
  }
  return names;
}
