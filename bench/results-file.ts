/**
 * bench/RESULTS.md: each benchmark owns one "## <heading>" section and replaces only that one (--write-results).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Replaces (or appends) the "## heading" block of a markdown document, up to the next "## " heading. */
export function replaceSection(document: string, heading: string, body: string): string {
  const block = `## ${heading}\n\n${body.trim()}\n`;
  const start = document.indexOf(`## ${heading}\n`);
  if (start < 0) return `${document.trimEnd()}${document.trim() === '' ? '' : '\n\n'}${block}`;
  const next = document.indexOf('\n## ', start + 3);
  return `${document.slice(0, start)}${block}${next < 0 ? '' : document.slice(next)}`;
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
