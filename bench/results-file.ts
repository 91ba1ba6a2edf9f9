/**
 * bench/RESULTS.md: each benchmark owns one "## <heading>" section and replaces only that one (--write-results).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Replaces (or appends) the "## heading" block of a markdown document, up to the next "## " heading. The heading
 * must start a line: "### bench:ingest" inside another section also ends in "## bench:ingest".
 */
export function replaceSection(document: string, heading: string, body: string): string {
  const block = `## ${heading}\n\n${body.trim()}\n`;
  const line = `## ${heading}\n`;
  const start = document.startsWith(line) ? 0 : indexPlusOne(document.indexOf(`\n${line}`));
  if (start < 0) return `${document.trimEnd()}${document.trim() === '' ? '' : '\n\n'}${block}`;
  const next = document.indexOf('\n## ', start + 3);
  return `${document.slice(0, start)}${block}${next < 0 ? '' : document.slice(next)}`;
}

/** Where the text after a found "\n" starts, or -1 when nothing was found. */
function indexPlusOne(newlineAt: number): number {
  return newlineAt < 0 ? -1 : newlineAt + 1;
}

/** bench/RESULTS.md of the repository, whether the bench runs from bench/ (tsx) or dist/bench/ (built). */
export function resultsFilePath(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return join(root, 'bench', 'RESULTS.md');
}

/** Writes `body` as the "## heading" section of bench/RESULTS.md, leaving the other sections alone; returns the path. */
export function writeResultsSection(heading: string, body: string): string {
  const file = resultsFilePath();
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  writeFileSync(file, replaceSection(current, heading, body));
  return file;
}
