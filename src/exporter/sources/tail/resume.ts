/**
 * The hand-off with the positions file: the position to save (which files, which offsets), and the first open, which
 * applies a saved position (after checking it describes the file found) or `startAt` (docs/tailing.md, "Start" and
 * "Restart").
 */
import { describes, isSavedFile, sameContent, type FilePosition } from './file.js';
import type { FileReader } from './reader.js';

/**
 * Where a source stopped. Normally one file; while a renamed predecessor is still being drained, the position names
 * the predecessor and, in `next`, the file at the path that was being read alongside it.
 */
export interface SavedPosition extends FilePosition {
  next?: FilePosition;
}

/**
 * A file first opened after start() whose birth time is at most this much before start() counts as created after
 * it: file timestamps come from a coarse kernel clock (a tick behind), and such a file holds no history to skip.
 */
export const BIRTH_SLACK_MS = 50;

/**
 * The position to save: the current file's, or, while a restart could find another unread file in `path.1`,
 * that file's with the current one as `next`. `older` is copytruncate's copy while its unread tail is being read
 * (the current file then restarted at 0, so naming it alone would lose that tail), else the newest predecessor
 * being drained.
 */
export function savedPosition(cur: FileReader, older: FileReader | undefined): SavedPosition {
  const here = cur.position();
  return older ? { ...older.position(), next: here } : here;
}

/** What the first open found: the file to read, and what to read before or alongside it. */
export interface FirstOpen {
  cur: FileReader;
  /** a renamed predecessor (in `path.1`) to drain alongside `cur` */
  draining?: FileReader;
  /** copytruncate's copy (in `path.1`) whose unread tail is read before `cur` */
  copy?: FileReader;
  /** the saved file is gone or was replaced: counts as a rotation */
  rotated: boolean;
}

export interface FirstOpenInput {
  path: string;
  pathDotOne: string;
  resume: SavedPosition | undefined;
  startAt: 'end' | 'beginning';
  /** at start(), rather than a later first open (file out of reach at start) */
  atStart: boolean;
  /** epoch ms of start() */
  startedAt: number;
  /** opens a regular file, undefined when there is none (problems reported by the tailer) */
  open: (p: string) => Promise<FileReader | undefined>;
}

/**
 * The first open, at start() and then on every pass until a file could be opened. Opens nothing (and returns
 * undefined) while there is no file to read, so the saved position and `startAt` stay pending for the next look.
 */
export async function firstOpen(o: FirstOpenInput): Promise<FirstOpen | undefined> {
  const resume = o.resume;
  const f = await o.open(o.path);
  if (!resume) {
    if (!f) return undefined;
    // a file created after start() holds only new lines; one that was there but out of reach (mounted late,
    // symlinked later) holds history, which `startAt: end` skips
    if (o.startAt === 'end' && (o.atStart || !(await bornSince(f, o.startedAt)))) await f.seekToLastLineEnd();
    return { cur: f, rotated: false };
  }
  if (resume.next && f && describes(f, resume.next)) {
    // saved while draining a renamed predecessor: resume the file at the path, and the predecessor if still in path.1
    f.seek(resume.next.offset);
    const prev = await o.open(o.pathDotOne);
    if (prev && prev.ino !== f.ino && describes(prev, resume)) {
      prev.seek(resume.offset);
      return { cur: f, draining: prev, rotated: false };
    }
    await prev?.close();
    return { cur: f, rotated: false };
  }
  // Otherwise the newest file the position names is what we look for (the predecessor's rest is gone with it).
  const pos: FilePosition = resume.next ?? resume;
  if (f && describes(f, pos)) {
    f.seek(pos.offset);
    return { cur: f, rotated: false };
  }
  // The file changed while we were down. Look for what we were reading in `path.1`.
  const prev = await o.open(o.pathDotOne);
  if (prev && describes(prev, pos)) {
    // renamed: drain it from the saved offset; `path` is pinned as its successor by the first cycle
    prev.seek(pos.offset);
    await f?.close();
    return { cur: prev, rotated: false };
  }
  if (!f) {
    // nothing to read yet: the saved position waits for the first file that can be opened
    await prev?.close();
    return undefined;
  }
  if (
    prev &&
    isSavedFile(f, pos) &&
    prev.ino !== f.ino &&
    sameContent(prev, Buffer.from(pos.head, 'base64'), pos.offset)
  ) {
    // copytruncate while we were down: `path.1` is the copy, read its unread tail first
    prev.seek(pos.offset);
    return { cur: f, copy: prev, rotated: true };
  }
  await prev?.close();
  return { cur: f, rotated: true };
}

/** Whether `f` was created after `since` (birth time, where the filesystem records it; 0 = unknown, taken as "no"). */
async function bornSince(f: FileReader, since: number): Promise<boolean> {
  const born = (await f.fh.stat()).birthtimeMs;
  return born > 0 && born >= since - BIRTH_SLACK_MS;
}
