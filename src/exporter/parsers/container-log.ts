/**
 * Container-log wrappers (issue 13 item 3): a container runtime writes each line of a container's output wrapped in
 * its own format, and splits long lines into several records. The decoder unwraps every record, joins the parts of a
 * split line (per stream), and hands the access-log line to the next sink exactly as the tailer hands a plain line.
 *
 * - `cri` (containerd, CRI-O; kubelet's /var/log/pods): `<RFC3339Nano time> <stdout|stderr> <P|F> <message>`, where a
 *   `P` (partial) record continues in the next record of the same stream and an `F` (full) one ends the line.
 * - `docker` (Docker's json-file driver): `{"log":"<message>\n","stream":"stdout","time":"..."}`; a line Docker split
 *   (at 16 KiB) has no trailing `\n` in `log` until its last chunk.
 *
 * A joined line longer than `maxLineBytes` is skipped as oversized (the rest of its parts are dropped unseen); a
 * record that is not in the format is `malformed()`. Pure: no I/O, nothing thrown on the hot path, and the common case
 * (one `F` record, one unescaped Docker chunk) hands a slice of the input on without copying it.
 */

/** Where unwrapped lines go (the log pipeline's line processor). `buf` is reused after return. */
export interface UnwrappedSink {
  line(buf: Buffer, start: number, end: number): void;
  /** A joined line longer than maxLineBytes was skipped. */
  oversized(): void;
  /** A record that is not in the wrapper's format. */
  malformed(): void;
}

export type ContainerFormat = 'cri' | 'docker';
/** Which of the container's streams hold the access log; records of the other one are skipped, not counted. */
export type ContainerStream = 'stdout' | 'stderr' | 'both';

const SP = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NL = 0x0a;
const DOCKER_PREFIX = Buffer.from('{"log":"');
const STREAM_KEY = Buffer.from('"stream":"');
const STREAM_AFTER_LOG = Buffer.from(',"stream":"');

function startsWithAt(buf: Buffer, i: number, what: Buffer, end: number): boolean {
  if (i + what.length > end) return false;
  for (let k = 0; k < what.length; k++) if (buf[i + k] !== what[k]) return false;
  return true;
}

/** The parts of a split line seen so far, per stream. */
class Pending {
  buf: Buffer = Buffer.alloc(0);
  len = 0;
  /** The line outgrew maxLineBytes: its further parts are dropped until its last one. */
  discarding = false;

  append(src: Buffer, start: number, end: number, max: number): void {
    if (this.discarding) return;
    const n = end - start;
    if (this.len + n > max) {
      this.discarding = true;
      this.len = 0;
      return;
    }
    if (this.len + n > this.buf.length)
      this.buf = Buffer.concat([this.buf.subarray(0, this.len)], Math.min(max, Math.max(256, 2 * (this.len + n))));
    src.copy(this.buf, this.len, start, end);
    this.len += n;
  }

  /** Ends the line with its last part [start, end) and hands it on. */
  finish(src: Buffer, start: number, end: number, max: number, sink: UnwrappedSink): void {
    if (!this.discarding && this.len === 0) {
      if (end - start > max) sink.oversized();
      else sink.line(src, start, end);
      return;
    }
    this.append(src, start, end, max);
    if (this.discarding) sink.oversized();
    else sink.line(this.buf, 0, this.len);
    this.len = 0;
    this.discarding = false;
  }

  /** Whether a line is being joined. */
  get open(): boolean {
    return this.len > 0 || this.discarding;
  }
}

/** The stream named by the 6 bytes at `i`: 0 `stdout`, 1 `stderr`, -1 anything else. */
function streamAt(buf: Buffer, i: number): number {
  if (buf[i] !== 0x73 || buf[i + 1] !== 0x74 || buf[i + 2] !== 0x64) return -1; // "std"
  const a = buf[i + 3];
  const b = buf[i + 4];
  const c = buf[i + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) return 0; // "out"
  if (a === 0x65 && b === 0x72 && c === 0x72) return 1; // "err"
  return -1;
}

const hex = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

function hex4(buf: Buffer, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const d = hex(buf[i + k] as number);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Decodes the JSON string body starting at `i` (just after its opening quote) into `out` from 0. Returns the index of
 * the closing quote and sets `decodeState.len`, or -1 when the string is not valid JSON or does not end before `end`.
 */
function decodeJsonString(buf: Buffer, i: number, end: number, out: Buffer, state: { len: number }): number {
  let o = 0;
  while (i < end) {
    const c = buf[i] as number;
    if (c === QUOTE) {
      state.len = o;
      return i;
    }
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) {
      out[o++] = c;
      i++;
      continue;
    }
    const e = buf[i + 1];
    i += 2;
    switch (e) {
      case 0x22: // "
      case 0x5c: // \
      case 0x2f: // /
        out[o++] = e;
        break;
      case 0x62: // b
        out[o++] = 8;
        break;
      case 0x66: // f
        out[o++] = 12;
        break;
      case 0x6e: // n
        out[o++] = NL;
        break;
      case 0x72: // r
        out[o++] = 13;
        break;
      case 0x74: // t
        out[o++] = 9;
        break;
      case 0x75: {
        // u: a code unit, or a surrogate pair, written as UTF-8
        if (i + 4 > end) return -1;
        let cp = hex4(buf, i);
        if (cp < 0) return -1;
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && buf[i] === BACKSLASH && buf[i + 1] === 0x75 && i + 6 <= end) {
          const lo = hex4(buf, i + 2);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          }
        }
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate
        o += out.write(String.fromCodePoint(cp), o, 'utf8');
        break;
      }
      default:
        return -1;
    }
  }
  return -1;
}

/**
 * Unwraps one container's records (one instance per file: the joining state is that file's). Implements the
 * tailer's line sink: `line()` gets one wrapped record, `oversized()` a record longer than maxLineBytes.
 */
export class ContainerLogDecoder {
  private readonly pending = [new Pending(), new Pending()];
  /** Decoded Docker `log` value (never longer than the record it came from, itself at most maxLineBytes). */
  private readonly scratch: Buffer;
  private readonly decoded = { len: 0 };
  readonly line: (buf: Buffer, start: number, end: number) => void;

  /** Stream index (0 stdout, 1 stderr) whose records are skipped, or -1. */
  private readonly skip: number;

  constructor(
    readonly format: ContainerFormat,
    private readonly maxLineBytes: number,
    private readonly sink: UnwrappedSink,
    stream: ContainerStream = 'both',
  ) {
    this.skip = stream === 'stdout' ? 1 : stream === 'stderr' ? 0 : -1;
    this.scratch = Buffer.alloc(format === 'docker' ? maxLineBytes + 4 : 0);
    this.line = format === 'cri' ? (b, s, e) => this.cri(b, s, e) : (b, s, e) => this.docker(b, s, e);
  }

  /** A wrapped record longer than maxLineBytes: the line it belongs to is lost, counted once when it ends. */
  oversized(): void {
    // Whether it was a partial or a full record is unknown: the stream's joining state is left as it is and the
    // record counts as one oversized line.
    this.sink.oversized();
  }

  /** Whether a split line is waiting for its last part (tests and the docs' "partial record at restart"). */
  get joining(): boolean {
    return (this.pending[0] as Pending).open || (this.pending[1] as Pending).open;
  }

  private cri(buf: Buffer, start: number, end: number): void {
    // byte loops, not indexOf: the fields are a few bytes long, and a native call costs more than scanning them
    let t = start;
    while (t < end && buf[t] !== SP) t++;
    if (t >= end || t - start < 20 || !isDigit(buf[start] as number)) return this.sink.malformed();
    const s = t + 1;
    const stream = s + 6 < end && buf[s + 6] === SP ? streamAt(buf, s) : -1;
    if (stream < 0) return this.sink.malformed();
    if (stream === this.skip) return;
    const se = s + 6;
    const tag = buf[se + 1];
    // the tag is P or F, possibly followed by further ':'-separated tags (CRI reserves them)
    let m = se + 2;
    while (m < end && buf[m] !== SP) m++;
    if ((tag !== 0x50 && tag !== 0x46) || (m > se + 2 && buf[se + 2] !== 0x3a)) return this.sink.malformed();
    const msg = m < end ? m + 1 : end;
    const pending = this.pending[stream] as Pending;
    if (tag === 0x50) pending.append(buf, msg, end, this.maxLineBytes);
    else pending.finish(buf, msg, end, this.maxLineBytes, this.sink);
  }

  private docker(buf: Buffer, start: number, end: number): void {
    if (!startsWithAt(buf, start, DOCKER_PREFIX, end)) return this.dockerSlow(buf, start, end);
    const close = decodeJsonString(buf, start + 8, end, this.scratch, this.decoded);
    if (close < 0) return this.sink.malformed();
    let stream = 0;
    // Docker writes `,"stream":"` right after the log value; anything else is searched for
    const k = startsWithAt(buf, close + 1, STREAM_AFTER_LOG, end) ? close + 2 : buf.indexOf(STREAM_KEY, close);
    if (k >= 0 && k < end) {
      const v = k + STREAM_KEY.length;
      stream = v + 6 < end && buf[v + 6] === QUOTE ? streamAt(buf, v) : -1;
      if (stream < 0) return this.sink.malformed();
    }
    this.dockerChunk(this.scratch, this.decoded.len, stream);
  }

  /** Any other spelling of the object (keys reordered, spaces): parsed the slow way. */
  private dockerSlow(buf: Buffer, start: number, end: number): void {
    let doc: unknown;
    try {
      doc = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      return this.sink.malformed();
    }
    const o = typeof doc === 'object' && doc !== null ? (doc as { log?: unknown; stream?: unknown }) : undefined;
    if (typeof o?.log !== 'string') return this.sink.malformed();
    const stream = o.stream === undefined ? 0 : o.stream === 'stdout' ? 0 : o.stream === 'stderr' ? 1 : -1;
    if (stream < 0) return this.sink.malformed();
    const n = this.scratch.write(o.log, 0, 'utf8');
    this.dockerChunk(this.scratch, n, stream);
  }

  private dockerChunk(b: Buffer, len: number, stream: number): void {
    if (stream === this.skip) return;
    const pending = this.pending[stream] as Pending;
    if (len > 0 && b[len - 1] === NL) pending.finish(b, 0, len - 1, this.maxLineBytes, this.sink);
    else pending.append(b, 0, len, this.maxLineBytes);
  }
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
