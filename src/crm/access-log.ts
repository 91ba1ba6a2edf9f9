import { createWriteStream, type WriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { CacheOutcome, LockOutcome } from './context.js';
import { errorMessage, type Logger } from './log.js';

/**
 * One access-log line. The key order and names are a contract: the exporter's `json` format reads exactly
 * these fields by default. Optional keys are omitted, never null.
 */
export interface AccessLogEntry {
  time: string;
  method: string;
  path: string;
  route: string;
  status: number;
  duration_ms: number;
  bytes: number;
  db_ms: number;
  cache_ms?: number;
  cache?: CacheOutcome;
  lock?: LockOutcome;
  lock_wait_ms?: number;
  request_id: string;
}

export const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Serialises in contract order regardless of how the object was built. */
export function formatAccessLogLine(e: AccessLogEntry): string {
  const ordered: AccessLogEntry = {
    time: e.time,
    method: e.method,
    path: e.path,
    route: e.route,
    status: e.status,
    duration_ms: e.duration_ms,
    bytes: e.bytes,
    db_ms: e.db_ms,
    ...(e.cache_ms !== undefined && { cache_ms: e.cache_ms }),
    ...(e.cache !== undefined && { cache: e.cache }),
    ...(e.lock !== undefined && { lock: e.lock }),
    ...(e.lock_wait_ms !== undefined && { lock_wait_ms: e.lock_wait_ms }),
    request_id: e.request_id,
  };
  return `${JSON.stringify(ordered)}\n`;
}

export interface AccessLogSink {
  write(entry: AccessLogEntry): void;
}

export interface AccessLogOptions {
  /** Check every this many ms whether the path now names another file (logrotate `create`) and reopen. 0 = off. */
  reopenCheckMs?: number;
  /** Lines buffered in memory beyond this are dropped (and counted) rather than growing without bound. */
  maxBufferedBytes?: number;
  log: Logger;
}

/**
 * Appends lines through a WriteStream (the event loop never waits on the disk). `reopen()` swaps in a
 * stream on a fresh open of the path, for SIGHUP after logrotate; `close()` flushes.
 */
export class AccessLogFile implements AccessLogSink {
  private stream!: WriteStream;
  private inode: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;
  private reopening: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly opts: AccessLogOptions,
  ) {}

  static async open(path: string, opts: AccessLogOptions): Promise<AccessLogFile> {
    const file = new AccessLogFile(path, opts);
    file.stream = await file.openStream();
    if (opts.reopenCheckMs && opts.reopenCheckMs > 0) {
      file.timer = setInterval(() => void file.checkRotation(), opts.reopenCheckMs);
      file.timer.unref();
    }
    return file;
  }

  get droppedLines(): number {
    return this.dropped;
  }

  write(entry: AccessLogEntry): void {
    if (this.stream.writableLength > (this.opts.maxBufferedBytes ?? 64 * 1024 * 1024)) {
      if (this.dropped++ === 0) this.opts.log('warn', `access log ${this.path} is not keeping up; dropping lines`);
      return;
    }
    this.stream.write(formatAccessLogLine(entry));
  }

  /** Opens the path again and retires the old stream once its buffered lines are flushed. */
  reopen(): Promise<void> {
    this.reopening ??= (async () => {
      try {
        const next = await this.openStream();
        const previous = this.stream;
        this.stream = next;
        previous.end();
      } catch (err) {
        this.opts.log(
          'error',
          `cannot reopen access log ${this.path}: ${errorMessage(err)}; still writing to the old file`,
        );
      }
    })().finally(() => {
      this.reopening = undefined;
    });
    return this.reopening;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reopening;
    if (this.stream.closed) return;
    const done = once(this.stream, 'close');
    this.stream.end();
    await done;
  }

  private async openStream(): Promise<WriteStream> {
    const handle = await open(this.path, 'a');
    try {
      this.inode = (await handle.stat()).ino;
    } catch (err) {
      await handle.close();
      throw err;
    }
    const stream = createWriteStream(this.path, { fd: handle });
    stream.on('error', (err) => this.opts.log('error', `access log ${this.path}: ${err.message}`));
    return stream;
  }

  private async checkRotation(): Promise<void> {
    try {
      if ((await stat(this.path)).ino === this.inode) return;
    } catch {
      // Moved away and not yet recreated: create it ourselves.
    }
    await this.reopen();
  }
}

/** Standard output, for containers that collect stdout. */
export class AccessLogStdout implements AccessLogSink {
  write(entry: AccessLogEntry): void {
    process.stdout.write(formatAccessLogLine(entry));
  }
}
