import { describe, expect, it } from 'vitest';
import { replaceSection } from '../../bench/results-file.js';

describe('replaceSection', () => {
  it('replaces only its own "## " section, up to the next one', () => {
    const doc = '# R\n\n## a\n\nold a\n\n## b\n\nold b\n';
    expect(replaceSection(doc, 'a', 'new a')).toBe('# R\n\n## a\n\nnew a\n\n## b\n\nold b\n');
    expect(replaceSection(doc, 'b', 'new b')).toBe('# R\n\n## a\n\nold a\n\n## b\n\nnew b\n');
  });

  it('does not take a "### " subsection of another section for its heading', () => {
    const doc = '# R\n\n## before and after\n\n### x\n\nkept\n\n## other\n\nkept too\n';
    expect(replaceSection(doc, 'x', 'new x')).toBe(`${doc}\n## x\n\nnew x\n`);
    const withOwn = `${doc}\n## x\n\nold x\n`;
    expect(replaceSection(withOwn, 'x', 'new x')).toBe(`${doc}\n## x\n\nnew x\n`);
  });

  it('finds a heading on the first line and appends a missing one', () => {
    expect(replaceSection('## a\n\nold\n', 'a', 'new')).toBe('## a\n\nnew\n');
    expect(replaceSection('', 'a', 'new')).toBe('## a\n\nnew\n');
  });
});
