/**
 * The log tailer's public API: follow one log path, exactly, through rotation and truncation, and resume from a
 * saved position (design, semantics and limits: docs/tailing.md). The implementation lives in ./tail/:
 * file.ts (opening, identity), reader.ts (one file's reading and its own partial line), changes.ts (content
 * replaced or cut in place), resume.ts (the positions hand-off), triggers.ts (fs.watch, poll, error reports) and
 * tailer.ts (which files are read, and when).
 *
 *   const t = new FileTailer({ path, startAt: 'end', maxLineBytes, pollIntervalMs, resume, sink, onError });
 *   await t.start();            // first open attempt done; reading goes on in the background
 *   t.position();               // what to save in the positions file (SavedPosition), any time
 *   await t.close();            // reads what is already written, releases every descriptor
 *
 * - `sink.line(buf, start, end)`: every complete line exactly once, in file order per file, as a byte range without
 *   "\n" (and one "\r" before it); `buf` is reused, read it synchronously. `sink.oversized()`: a line longer than
 *   `maxLineBytes` was skipped (once per line). A partial line is held by the file it was read from and delivered once
 *   its "\n" arrives, or as it is when that file is left for good (a renamed file gone quiet, copytruncate's copy).
 * - Rotation: rename + create (the successor is read at once, the renamed file drained alongside it until quiet for
 *   2 poll intervals), delete + recreate, copytruncate (the unread tail read from `path.1`), truncation in place.
 * - `resume`: a position saved by `position()` of an earlier run (through sources/positions.ts); used only for the
 *   file it describes (or `path.1`), else the file is read from 0. Without it, `startAt` applies to the first file.
 * - Read-only state for metrics and the landing page: `state`, `readable` (open and the last pass met no I/O
 *   problem), `problemsReported` (onError calls: each distinct problem once until a clean pass), `bytesRead`,
 *   `rotations`, `lastReadAt` (epoch ms), `lagBytes()`.
 * - `caughtUp()` (tests, benchmarks): resolves after a pass that found nothing left to read.
 * - `onError`: non-fatal I/O problems (EACCES, a FIFO at the path ...); the tailer keeps retrying on every trigger.
 */
export { HEAD_BYTES, type FilePosition } from './tail/file.js';
export type { LineSink } from './tail/reader.js';
export { BIRTH_SLACK_MS, type SavedPosition } from './tail/resume.js';
export { FileTailer, type TailerOptions, type TailerState } from './tail/tailer.js';
