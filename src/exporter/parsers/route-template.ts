/**
 * Route templating on bytes: turns a logged request path into a bounded `route` label.
 *
 * Order: the source's configured templates (`routes:` e.g. `/api/customers/:id`) are tried first, in config
 * order; otherwise the path is templated automatically: query string and fragment dropped, scheme and host of an
 * absolute URL dropped, and every segment that looks like an identifier becomes `:id`:
 * - numeric (`123`), a UUID (`8-4-4-4-12` hex), long hex (≥ 16 hex digits),
 * - base64/base64url-ish tokens (≥ 20 characters of `A-Za-z0-9+=_-` with at least one digit and one letter).
 *
 * Template syntax: segments separated by `/`; a segment starting with `:` matches any non-empty segment; a last
 * segment `*` matches the rest of the path. One trailing slash on the path is ignored when matching templates.
 *
 * Hot path: the templated key is written into a scratch buffer, hashed four bytes at a time and looked up in a byte-keyed
 * cache; a string is decoded only when a key is seen for the first time. Distinct routes are capped at
 * `maxRoutes`; once reached, new routes resolve to ROUTE_OTHER (`__other__`). Requests without a path (nginx
 * logs `"-"` as the request line of a connection that sent none) resolve to ROUTE_NONE (`__none__`).
 *
 * Labels are capped in length too (`maxRouteLength` characters): `maxRoutes` alone let 200 crafted 8 KiB paths
 * turn /metrics into hundreds of megabytes. A longer route is cut at a segment boundary (see truncateRoute).
 */

import { ByteKeyCache, DataViewCache, dataViewOf, hashBytes, hashWords } from './bytes.js';

export const OTHER_ROUTE = '__other__';
export const NONE_ROUTE = '__none__';
export const ROUTE_OTHER = 0;
export const ROUTE_NONE = 1;

const SLASH = 0x2f;

// Byte classes for the one-pass templating.
const C_DIGIT = 1;
const C_HEX_ALPHA = 2; // a-f A-F
const C_ALPHA = 4; // other letters
const C_DASH = 8;
const C_B64 = 16; // _ + =
const C_OTHER = 32;
const C_SLASH = 64;
const C_END = 128; // ? #
const CLASS = new Uint8Array(256).fill(C_OTHER);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = C_DIGIT;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = c <= 0x66 ? C_HEX_ALPHA : C_ALPHA;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = c <= 0x46 ? C_HEX_ALPHA : C_ALPHA;
CLASS[0x2d] = C_DASH;
CLASS[0x5f] = C_B64;
CLASS[0x2b] = C_B64;
CLASS[0x3d] = C_B64;
CLASS[SLASH] = C_SLASH;
CLASS[0x3f] = C_END;
CLASS[0x23] = C_END;

const NOT_DIGIT = ~C_DIGIT & 0xff;
const NOT_HEX = ~(C_DIGIT | C_HEX_ALPHA) & 0xff;
const NOT_UUID = ~(C_DIGIT | C_HEX_ALPHA | C_DASH) & 0xff;
const NOT_B64 = ~(C_DIGIT | C_HEX_ALPHA | C_ALPHA | C_DASH | C_B64) & 0xff;

/**
 * Whether a segment `buf[start, start + len)` whose byte classes OR to `seen` is an identifier: numeric, UUID,
 * long hex (≥ 16) or base64-ish (≥ 20, with digits and letters).
 */
function idLike(seen: number, len: number, buf: Buffer, start: number): boolean {
  if (len === 0) return false;
  if ((seen & NOT_DIGIT) === 0) return true;
  if (len >= 16 && (seen & NOT_HEX) === 0) return true;
  if (len === 36 && (seen & NOT_UUID) === 0) {
    let dashes = 0;
    for (let i = start; i < start + 36; i++) if (buf[i] === 0x2d) dashes++;
    if (
      dashes === 4 &&
      buf[start + 8] === 0x2d &&
      buf[start + 13] === 0x2d &&
      buf[start + 18] === 0x2d &&
      buf[start + 23] === 0x2d
    )
      return true;
  }
  return len >= 20 && (seen & NOT_B64) === 0 && (seen & C_DIGIT) !== 0 && (seen & (C_HEX_ALPHA | C_ALPHA)) !== 0;
}

/** True when `buf[start, end)` is a segment the automatic templating replaces with `:id`. */
export function isIdSegment(buf: Buffer, start: number, end: number): boolean {
  let seen = 0;
  for (let i = start; i < end; i++) seen |= CLASS[buf[i] as number] as number;
  return (seen & (C_SLASH | C_END)) === 0 && idLike(seen, end - start, buf, start);
}

/** Where the path proper ends: before `?` or `#`. */
function pathEnd(buf: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x3f || c === 0x23) return i;
  }
  return end;
}

/** Skips `http://host` / `https://host` of an absolute-form request target. */
function pathStart(buf: Buffer, start: number, end: number): number {
  if (end - start < 8 || buf[start] === SLASH) return start;
  let i = start;
  while (i < end && i - start < 6 && (buf[i] as number) >= 0x61 && (buf[i] as number) <= 0x7a) i++;
  if (i + 2 < end && buf[i] === 0x3a && buf[i + 1] === SLASH && buf[i + 2] === SLASH) {
    i += 3;
    while (i < end && buf[i] !== SLASH) i++;
    return i;
  }
  return start;
}

const PARAM = 1;
const REST = 2;
interface CompiledTemplate {
  route: string;
  /** A literal segment, PARAM or REST. */
  segments: (Buffer | number)[];
}

function compileTemplate(route: string): CompiledTemplate {
  const parts = route.split('/');
  const segments = parts.map((part, i): Buffer | number => {
    if (part.startsWith(':') && part.length > 1) return PARAM;
    if (part === '*' && i === parts.length - 1) return REST;
    return Buffer.from(part, 'utf8');
  });
  return { route, segments };
}

function matchTemplate(buf: Buffer, start: number, end: number, tpl: CompiledTemplate): boolean {
  const segs = tpl.segments;
  let pos = start;
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k] as Buffer | number;
    if (seg === REST) return true;
    if (pos > end) return false;
    let q = pos;
    while (q < end && buf[q] !== SLASH) q++;
    if (seg === PARAM) {
      if (q === pos) return false;
    } else {
      const lit = seg as Buffer;
      if (q - pos !== lit.length) return false;
      for (let j = 0; j < lit.length; j++) if (buf[pos + j] !== lit[j]) return false;
    }
    pos = q + 1;
  }
  return pos === end + 1 || (pos === end && end > start);
}

/**
 * `name` when it has at most `max` characters, else its longest prefix ending in `/` that leaves room for a final
 * `*` (the template syntax for "the rest of the path"): `/api/customers/:id/<8 KiB>` -> `/api/customers/:id/*`.
 * Cutting after a `/` never splits a UTF-16 surrogate pair. A name without such a `/` becomes `*`.
 */
export function truncateRoute(name: string, max: number): string {
  if (name.length <= max) return name;
  return `${name.slice(0, name.lastIndexOf('/', max - 2) + 1)}*`;
}

function isAscii(buf: Buffer, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if ((buf[i] as number) >= 0x80) return false;
  return true;
}

/** hashWords of an ASCII string's bytes (what resolvePath and resolveRoute compute for the same label). */
const asciiHash = (name: string): number => hashBytes(Buffer.from(name, 'latin1'));

/** Added to a cached route id whose label was truncated, so cache hits are counted too (ids stay far below). */
const TRUNCATED = 1 << 24;

export const DEFAULT_MAX_ROUTE_LENGTH = 128;

export interface RouteResolverOptions {
  /** Configured templates, tried first in order. */
  templates?: readonly string[];
  /** Distinct routes before new ones become `__other__` (`__other__` and `__none__` are not counted). */
  maxRoutes: number;
  /** Longest route label in characters; longer ones are cut by truncateRoute (default 128). */
  maxRouteLength?: number;
  /** Entries of each byte-key cache (default 4096). */
  cacheEntries?: number;
}

/**
 * Maps request paths (templated) and application-supplied route templates (used as-is) to dense route ids;
 * `names[id]` is the label value. One resolver per log source.
 */
export class RouteResolver {
  /** Route label by id; ids 0 and 1 are `__other__` and `__none__`. */
  readonly names: string[] = [OTHER_ROUTE, NONE_ROUTE];
  private readonly byName = new Map<string, number>([
    [OTHER_ROUTE, ROUTE_OTHER],
    [NONE_ROUTE, ROUTE_NONE],
  ]);
  private readonly maxRoutes: number;
  private readonly maxRouteLength: number;
  /** Resolutions (lines) whose label was cut to maxRouteLength, not counting those that became `__other__`. */
  truncated = 0;
  /**
   * hashWords of the bytes of every known ASCII label. Once maxRoutes is reached, an ASCII label whose bytes hash to
   * none of these is `__other__` without being decoded: a flood of random paths then allocates nothing per line.
   */
  private readonly asciiHashes = new Set<number>();
  private readonly templates: CompiledTemplate[];
  /** Some template has a literal segment that automatic templating would replace: match raw paths per line. */
  private readonly rawMatch: boolean;
  private readonly templateIds: Int32Array;
  private readonly pathCache: ByteKeyCache;
  private readonly routeCache: ByteKeyCache;
  private key: Buffer = Buffer.alloc(1024);
  private keyDv: DataView = dataViewOf(this.key);
  private keyHash = 0;
  /** DataView of the buffer application routes are read from. */
  private readonly dvs = new DataViewCache();

  constructor(opts: RouteResolverOptions) {
    this.maxRoutes = opts.maxRoutes;
    this.maxRouteLength = opts.maxRouteLength ?? DEFAULT_MAX_ROUTE_LENGTH;
    this.templates = (opts.templates ?? []).map(compileTemplate);
    this.templateIds = new Int32Array(this.templates.length).fill(-1);
    this.rawMatch = this.templates.some((t) =>
      t.segments.some((s) => typeof s !== 'number' && isIdSegment(s, 0, s.length)),
    );
    for (const name of this.names) this.asciiHashes.add(asciiHash(name));
    const entries = opts.cacheEntries ?? 4096;
    this.pathCache = new ByteKeyCache(entries);
    this.routeCache = new ByteKeyCache(entries);
  }

  /** Number of distinct routes, not counting `__other__` and `__none__`. */
  get size(): number {
    return this.names.length - 2;
  }

  /** Route id for a logged path `buf[start, end)` (start < 0: no path). ROUTE_OTHER means max_routes was reached. */
  resolvePath(buf: Buffer, start: number, end: number): number {
    if (start < 0) return ROUTE_NONE;
    const s = pathStart(buf, start, end);
    if (s >= end || CLASS[buf[s] as number] === C_END) return ROUTE_NONE;
    if (this.rawMatch) {
      const t = this.matchTemplates(buf, s, pathEnd(buf, s, end));
      if (t >= 0) return this.templateRoute(t);
    }
    const len = this.normalize(buf, s, end);
    const key = this.key;
    const hash = this.keyHash;
    const hit = this.pathCache.get(key, 0, len, hash);
    if (hit >= 0) return hit < TRUNCATED ? hit : this.countTruncated(hit);
    let id: number;
    const t = this.rawMatch ? -1 : this.matchTemplates(key, 0, len);
    if (t >= 0) id = this.templateRoute(t);
    else id = this.internCapped(key, 0, len, hash);
    this.pathCache.set(key, 0, len, hash, id);
    return id < TRUNCATED ? id : this.countTruncated(id);
  }

  /** Route id for an application-supplied route template `buf[start, end)`, used as-is; -1 when empty/absent. */
  resolveRoute(buf: Buffer, start: number, end: number): number {
    if (start < 0 || end <= start) return -1;
    const hash = hashWords(this.dvs.of(buf), buf, start, end);
    const hit = this.routeCache.get(buf, start, end - start, hash);
    if (hit >= 0) return hit < TRUNCATED ? hit : this.countTruncated(hit);
    const id = this.internCapped(buf, start, end - start, hash);
    this.routeCache.set(buf, start, end - start, hash, id);
    return id < TRUNCATED ? id : this.countTruncated(id);
  }

  private countTruncated(flagged: number): number {
    this.truncated++;
    return flagged - TRUNCATED;
  }

  /**
   * Interns the label of `buf[start, start + len)`, cut to maxRouteLength; the id carries TRUNCATED when it was cut
   * (and did not overflow to `__other__`). Decodes at most 3 bytes per character kept: a UTF-16 unit never takes
   * more, so the prefix decides, and a 64 KiB path costs no more than a short one.
   */
  private internCapped(buf: Buffer, start: number, len: number, hash: number): number {
    const max = this.maxRouteLength;
    if (
      len <= max &&
      this.names.length - 2 >= this.maxRoutes &&
      !this.asciiHashes.has(hash) &&
      isAscii(buf, start, len)
    )
      return ROUTE_OTHER;
    const name = buf.toString('utf8', start, start + Math.min(len, 3 * max + 4));
    if (name.length <= max) return this.intern(name);
    const id = this.intern(truncateRoute(name, max));
    return id === ROUTE_OTHER ? id : id + TRUNCATED;
  }

  /** Route label of a path as a string (tests, tools; allocates). */
  templateString(path: string): string {
    const b = Buffer.from(path, 'utf8');
    return this.names[this.resolvePath(b, 0, b.length)] as string;
  }

  private matchTemplates(buf: Buffer, start: number, end: number): number {
    const tpls = this.templates;
    for (let i = 0; i < tpls.length; i++) if (matchTemplate(buf, start, end, tpls[i] as CompiledTemplate)) return i;
    return -1;
  }

  private templateRoute(i: number): number {
    let id = this.templateIds[i] as number;
    if (id < 0) {
      id = this.intern((this.templates[i] as CompiledTemplate).route);
      this.templateIds[i] = id;
    }
    return id;
  }

  private intern(name: string): number {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    if (this.names.length - 2 >= this.maxRoutes) return ROUTE_OTHER;
    const id = this.names.length;
    this.names.push(name);
    this.byName.set(name, id);
    // as many UTF-8 bytes as UTF-16 units: every character is ASCII
    if (Buffer.byteLength(name) === name.length) this.asciiHashes.add(asciiHash(name));
    return id;
  }

  /**
   * Writes the automatic template of `buf[start, end)` into `this.key` in one pass (stopping at `?` or `#`),
   * leaves its hash in `this.keyHash` and returns its length.
   */
  private normalize(buf: Buffer, start: number, end: number): number {
    const need = 2 * (end - start) + 8;
    if (need > this.key.length) {
      this.key = Buffer.alloc(need);
      this.keyDv = dataViewOf(this.key);
    }
    const key = this.key;
    let o = 0;
    let i = start;
    for (;;) {
      // one segment, up to "/", "?", "#" or the end
      const segO = o;
      let seen = 0;
      let cls = C_END;
      while (i < end) {
        const c = buf[i] as number;
        cls = CLASS[c] as number;
        if ((cls & (C_SLASH | C_END)) !== 0) break;
        seen |= cls;
        key[o++] = c;
        i++;
      }
      if (i >= end) cls = C_END;
      if (seen !== 0 && idLike(seen, o - segO, key, segO)) {
        o = segO;
        key[o++] = 0x3a; // :
        key[o++] = 0x69; // i
        key[o++] = 0x64; // d
      }
      if (cls === C_END) break;
      key[o++] = SLASH;
      i++;
    }
    this.keyHash = hashWords(this.keyDv, key, 0, o);
    return o;
  }
}

/** Automatic template of a path string, ignoring max_routes and max_route_length (tests, docs; allocates). */
export function autoTemplate(path: string, templates: readonly string[] = []): string {
  return new RouteResolver({ templates, maxRoutes: Number.MAX_SAFE_INTEGER, maxRouteLength: Infinity }).templateString(
    path,
  );
}
