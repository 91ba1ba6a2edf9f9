import type { ServerResponse } from 'node:http';

/**
 * Where the exposition renderers write. /metrics streams into the HTTP response so a large exposition (thousands of
 * access-log series under a route-cardinality attack) is never held as one string and one Buffer: that left ~18 MB
 * of garbage per scrape, and RSS grew with every scrape. The renderers encode each chunk (whole lines) as soon as it
 * is produced, into memory the next scrape reuses, and write the chunks one at a time, waiting whenever the client
 * is slower.
 */
export interface ChunkSink {
  /** The chunk's bytes, valid until this answer is written. */
  encode(chunk: string): Buffer;
  /** Resolves when the next chunk may be written (the response's buffer drained, or the client went away). */
  write(chunk: Buffer): Promise<void>;
}

const SLAB_BYTES = 1 << 20;

/**
 * Fixed-size buffers that one answer's chunks are encoded into, reused by later answers. Buffers allocated per
 * scrape are freed only when a full GC finds their (by then promoted) wrappers: under Node.js 24 a few scrapes of a
 * 6 MB exposition kept 40 MB of them alive.
 */
class Slabs {
  private readonly slabs: Buffer[] = [];
  private index = 0;
  private used = 0;

  encode(chunk: string): Buffer {
    const n = Buffer.byteLength(chunk);
    if (n > SLAB_BYTES) return Buffer.from(chunk);
    if (this.used + n > SLAB_BYTES) {
      this.index++;
      this.used = 0;
    }
    const slab = this.slabs[this.index] ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
    if (this.slabs.length === this.index) this.slabs.push(slab);
    const start = this.used;
    this.used += slab.write(chunk, start);
    return slab.subarray(start, this.used);
  }

  reset(): void {
    this.index = 0;
    this.used = 0;
  }
}

/** Slabs of finished answers; one per concurrent scrape, at most two kept. */
const idle: Slabs[] = [];

/** Writes into an HTTP response with backpressure; drops chunks once the client has gone. */
export function responseSink(res: ServerResponse): ChunkSink {
  const slabs = idle.pop() ?? new Slabs();
  // 'finish': every byte has been handed to the OS, so nothing refers to the slabs any more. An aborted answer's
  // slabs are left to the GC (libuv may still hold them).
  res.once('finish', () => {
    slabs.reset();
    if (idle.length < 2) idle.push(slabs);
  });
  return {
    encode: (chunk) => slabs.encode(chunk),
    async write(chunk) {
      if (res.destroyed || res.writableEnded || res.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
  };
}

/**
 * `promise`, marked as handled: the renderers start every family at once and await them in order, so a family that
 * fails while an earlier one is awaited must not count as an unhandled rejection (which ends the process). Awaiting
 * it later still throws.
 */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Writes every part in order: the parts' chunks were made in one synchronous step, the promises started in it. */
export async function writeParts(parts: readonly (Buffer[] | Promise<Buffer[]>)[], sink: ChunkSink): Promise<void> {
  for (const part of parts) for (const chunk of await part) await sink.write(chunk);
}

/** Collects the chunks into one string (tests, tools). */
export async function collect(write: (sink: ChunkSink) => Promise<void>): Promise<string> {
  const chunks: Buffer[] = [];
  await write({ encode: (chunk) => Buffer.from(chunk), write: async (chunk) => void chunks.push(chunk) });
  return Buffer.concat(chunks).toString('utf8');
}
