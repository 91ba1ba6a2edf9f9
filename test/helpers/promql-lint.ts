import { parser } from '@prometheus-io/lezer-promql';

/*
 * The PromQL half of Grafana's dashboard linter, on the real PromQL grammar (lezer-promql, the parser of
 * Prometheus's own UI) rather than regexes: every selector filters on the cluster, job and instance variables, every
 * rate over raw series uses $__rate_interval, counters appear only inside rate/irate/increase.
 */

/** `$__rate_interval` is not PromQL; it is parsed as this duration, which no query writes by hand. */
const RATE_INTERVAL_SENTINEL = '4242s';
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

export interface Selector {
  name: string;
  matchers: Array<{ label: string; op: string; value: string }>;
  /** The range of a matrix selector, as written (`$__rate_interval` or a duration). */
  range?: string;
  /** The function a matrix selector is the direct argument of. */
  func?: string;
}

const text = (src: string, node: SyntaxNode): string => src.slice(node.from, node.to);

/** Parses one expression (Grafana variables other than $__rate_interval are kept as string contents). */
export function parseSelectors(expr: string): Selector[] {
  const src = expr.replaceAll('$__rate_interval', RATE_INTERVAL_SENTINEL);
  const tree = parser.parse(src);
  const errors: string[] = [];
  const found: Selector[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError)
        errors.push(
          `syntax error at ${ref.from}: ${JSON.stringify(src.slice(Math.max(0, ref.from - 20), ref.to + 20))}`,
        );
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const id = node.getChild('Identifier');
      const matchers = node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? [];
      const selector: Selector = {
        name: id ? text(src, id) : '',
        matchers: matchers.map((m) => ({
          label: text(src, m.getChild('LabelName')!),
          op: text(src, m.getChild('MatchOp')!),
          value: JSON.parse(text(src, m.getChild('StringLiteral')!).replace(/^'|'$/g, '"')) as string,
        })),
      };
      const matrix = node.parent?.name === 'MatrixSelector' ? node.parent : undefined;
      if (matrix) {
        const range = text(src, matrix)
          .slice(text(src, node).length)
          .replace(/^\[|\]$/g, '')
          .trim();
        selector.range = range === RATE_INTERVAL_SENTINEL ? '$__rate_interval' : range;
        const call = matrix.parent?.name === 'FunctionCallBody' ? matrix.parent.parent : undefined;
        const fn = call?.getChild('FunctionIdentifier');
        if (fn) selector.func = text(src, fn);
      }
      found.push(selector);
    },
  });
  if (errors.length > 0) throw new Error(`${errors.join('; ')} in: ${expr}`);
  return found;
}

/** A recorded series (level:metric:operations); its level says whether it still has `instance`. */
export const isRecorded = (name: string): boolean => name.includes(':');
export const hasInstance = (name: string): boolean =>
  !isRecorded(name) || (name.split(':')[0] ?? '').split('_').includes('instance');

/** Every linter finding for one expression; `counters` are the counter series (rate them, never read them raw). */
export function lintExpr(expr: string, counters: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const s of parseSelectors(expr)) {
    const has = (label: string, value: string) =>
      s.matchers.some((m) => m.label === label && m.op === '=~' && m.value === value);
    if (!has('cluster', '$cluster')) problems.push(`${s.name}: no cluster=~"$cluster" matcher`);
    if (!has('job', '$job')) problems.push(`${s.name}: no job=~"$job" matcher`);
    if (hasInstance(s.name) && !has('instance', '$instance'))
      problems.push(`${s.name}: no instance=~"$instance" matcher`);
    const rated = s.func !== undefined && RATE_FUNCTIONS.has(s.func);
    if (rated && !isRecorded(s.name) && s.range !== '$__rate_interval')
      problems.push(`${s.name}: ${s.func} over [${s.range}] instead of [$__rate_interval]`);
    if (counters.has(s.name) && !rated) problems.push(`${s.name}: a counter outside rate/irate/increase`);
  }
  return problems;
}
