/**
 * HTTP methods as small integer ids, recognised from bytes without building a string.
 *
 * The set is fixed (RFC 9110 plus PATCH) so the `method` label is bounded: anything else, including lower-case
 * spellings (methods are case-sensitive), becomes `OTHER`.
 */

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  'OTHER',
] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const METHOD_GET = 0;
export const METHOD_HEAD = 1;
export const METHOD_POST = 2;
export const METHOD_PUT = 3;
export const METHOD_PATCH = 4;
export const METHOD_DELETE = 5;
export const METHOD_OPTIONS = 6;
export const METHOD_CONNECT = 7;
export const METHOD_TRACE = 8;
export const METHOD_OTHER = 9;
/** Number of method ids (the size of a per-method table). */
export const METHOD_COUNT = HTTP_METHODS.length;

const eq = (buf: Buffer, at: number, text: string): boolean => {
  for (let i = 1; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

/** Method id of the bytes `buf[start, end)`; `METHOD_OTHER` for anything outside the fixed set. */
export function methodFromBytes(buf: Buffer, start: number, end: number): number {
  const first = buf[start];
  switch (end - start) {
    case 3:
      if (first === 0x47 /* G */ && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return METHOD_GET;
      if (first === 0x50 /* P */ && buf[start + 1] === 0x55 && buf[start + 2] === 0x54) return METHOD_PUT;
      return METHOD_OTHER;
    case 4:
      if (first === 0x50 /* P */ && eq(buf, start, 'POST')) return METHOD_POST;
      if (first === 0x48 /* H */ && eq(buf, start, 'HEAD')) return METHOD_HEAD;
      return METHOD_OTHER;
    case 5:
      if (first === 0x50 /* P */ && eq(buf, start, 'PATCH')) return METHOD_PATCH;
      if (first === 0x54 /* T */ && eq(buf, start, 'TRACE')) return METHOD_TRACE;
      return METHOD_OTHER;
    case 6:
      return first === 0x44 /* D */ && eq(buf, start, 'DELETE') ? METHOD_DELETE : METHOD_OTHER;
    case 7:
      if (first === 0x4f /* O */ && eq(buf, start, 'OPTIONS')) return METHOD_OPTIONS;
      if (first === 0x43 /* C */ && eq(buf, start, 'CONNECT')) return METHOD_CONNECT;
      return METHOD_OTHER;
    default:
      return METHOD_OTHER;
  }
}

const BY_NAME = new Map<string, number>(HTTP_METHODS.map((m, i) => [m, i]));

/** Method id of a string (fallback paths); `METHOD_OTHER` outside the fixed set. */
export function methodFromString(text: string): number {
  const id = BY_NAME.get(text);
  return id === undefined || id === METHOD_OTHER ? METHOD_OTHER : id;
}

/** Label value for a method id. */
export function methodName(id: number): HttpMethod {
  return HTTP_METHODS[id] ?? 'OTHER';
}
