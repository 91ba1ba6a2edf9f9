/**
 * Globs in a log source's path (issue 13 item 3): which files match now. I/O only: directory listings, one segment at
 * a time, `*` and `?` within one segment and `[...]` classes (no `**`; the schema refuses it). Symbolic links are
 * followed like the tailer follows them, and only regular files match (a FIFO is never opened); names of rotated files
 * (`x.1`, `x.20261201-041200`, `x.gz`) never match. Listings that fail
 * (a pod directory deleted between two reads, EACCES) match nothing and are reported through `onError`.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';

const GLOB_CHARS = /[*?[]/;

/**
 * Names of rotated files, which a glob never follows on their own: the tailer of the file they were renamed from
 * reads their rest (following them too would count it twice). `x.1`, `x.2` ... (Docker json-file, logrotate),
 * `x.20261201-041200` (kubelet), and `.gz`/`.tmp` (kubelet compressing them).
 */
const ROTATED = /\.(\d+|\d{8}-\d{6}|gz|tmp)$/;

/** Whether a matched file's name is one of a rotated file (never followed by a glob, see ROTATED). */
export const isRotatedName = (name: string): boolean => ROTATED.test(name);

/** A glob segment as an anchored RegExp (`*` and `?` never match `/`; a leading `.` must be matched explicitly). */
export function segmentRegExp(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(segment.startsWith('.') ? `^${out}$` : `^(?!\\.)${out}$`);
}

/** A compiled glob: the literal directory it starts from, then one matcher (or literal name) per segment. */
export class Glob {
  private readonly root: string;
  private readonly segments: readonly (RegExp | string)[];

  constructor(readonly pattern: string) {
    const parts = pattern.split(sep);
    const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
    const literal = firstGlob < 0 ? parts.length - 1 : firstGlob;
    this.root = parts.slice(0, literal).join(sep) || (isAbsolute(pattern) ? sep : '.');
    this.segments = parts.slice(literal).map((p) => (GLOB_CHARS.test(p) ? segmentRegExp(p) : p));
  }

  /** The regular files matching now, sorted. `onError` gets listing problems other than "no such directory". */
  async match(onError?: (err: Error) => void): Promise<string[]> {
    const out: string[] = [];
    await this.walk(this.root, 0, out, onError);
    return out.sort();
  }

  private async walk(dir: string, i: number, out: string[], onError?: (err: Error) => void): Promise<void> {
    const seg = this.segments[i];
    if (seg === undefined) return;
    const last = i === this.segments.length - 1;
    let names: string[];
    if (typeof seg === 'string') names = [seg];
    else {
      try {
        names = (await readdir(dir)).filter((n) => seg.test(n) && !(last && isRotatedName(n)));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') onError?.(err as Error);
        return;
      }
    }
    for (const name of names.sort()) {
      const p = join(dir, name);
      let isFile: boolean;
      try {
        const st = await stat(p);
        isFile = st.isFile();
        if (!last && !st.isDirectory()) continue;
      } catch {
        continue; // gone since the listing, or a dangling link
      }
      if (last) {
        if (isFile) out.push(p);
      } else await this.walk(p, i + 1, out, onError);
    }
  }
}
