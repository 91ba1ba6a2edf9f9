/**
 * File identity: opening a log file, and what identifies it across rotations and restarts. Identity (device, inode)
 * and size always come from the HELD descriptor, never from a stat of the path followed by an open (which races with
 * rotation). Only regular files are opened: a FIFO, device or socket is refused on what `stat` shows, and every open
 * is O_NONBLOCK, so nothing can block.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

/** First bytes remembered per file to recognise content replaced in place. */
export const HEAD_BYTES = 64;

/**
 * O_NONBLOCK: opening a FIFO for reading would otherwise wait (in a libuv thread, forever) for a writer, and with it
 * start() and close(). It changes nothing for regular files. O_NOCTTY: a terminal never becomes our controlling one.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Where reading of one file stopped, as saved in the positions file. */
export interface FilePosition {
  /** Device of the file system holding it (absent in positions saved before it was recorded). */
  dev?: number;
  inode: number;
  offset: number;
  /** base64 of the file's first min(64, size) bytes at save time */
  head: string;
}

/** An open regular file: its descriptor, identity, size at the last fstat and first bytes. */
export interface OpenedFile {
  fh: FileHandle;
  dev: number;
  ino: number;
  size: number;
  nlink: number;
  /** first min(HEAD_BYTES, size) bytes */
  head: Buffer;
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** What a non-regular file is, for the one log line that says why it is not read. */
function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The error (code ENOTFILE) for a non-regular file at `p`. */
export function notRegularError(p: string, st: Stats): Error {
  return Object.assign(
    new Error(`${p} is ${fileKind(st)}, not a regular file: not read until a regular file is there`),
    { code: 'ENOTFILE' },
  );
}

/** The first min(HEAD_BYTES, size) bytes of the file behind `fh`. */
export async function readHead(fh: FileHandle, size: number): Promise<Buffer> {
  const n = Math.min(HEAD_BYTES, size);
  if (n === 0) return Buffer.alloc(0);
  const b = Buffer.alloc(n);
  const { bytesRead } = await fh.read(b, 0, n, 0);
  return b.subarray(0, bytesRead);
}

/**
 * Opens the regular file at `p` and fstats the held descriptor. Throws ENOENT (nothing there), ENOTFILE (a FIFO,
 * device, directory ...: refused on what `stat` shows, without opening it, since opening a FIFO would also release a
 * writer waiting for its reader; O_NONBLOCK and the fstat of the held descriptor cover one swapped in between), or
 * any other I/O error.
 */
export async function openRegular(p: string): Promise<OpenedFile> {
  const st0 = await stat(p);
  if (!st0.isFile()) throw notRegularError(p, st0);
  const fh = await open(p, OPEN_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegularError(p, st);
    return { fh, dev: st.dev, ino: st.ino, size: st.size, nlink: st.nlink, head: await readHead(fh, st.size) };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/** Whether `f` is the file `pos` names: same inode on the same device (the inode alone repeats across devices). */
export function isSavedFile(f: { dev: number; ino: number }, pos: FilePosition): boolean {
  return f.ino === pos.inode && (pos.dev === undefined || f.dev === pos.dev);
}

/** Whether `f` still holds the content described by `head` up to `offset` (at least that long, same first bytes). */
export function sameContent(f: { size: number; head: Buffer }, head: Buffer, offset: number): boolean {
  if (f.size < offset || f.size < head.length) return false;
  return f.head.subarray(0, head.length).equals(head);
}

/** Whether `f` is the file `pos` was saved for, still holding that content. */
export function describes(f: { dev: number; ino: number; size: number; head: Buffer }, pos: FilePosition): boolean {
  return isSavedFile(f, pos) && sameContent(f, Buffer.from(pos.head, 'base64'), pos.offset);
}

/** Whether anything is at `p`. */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
