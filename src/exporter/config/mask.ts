/**
 * The one place that decides what of a secret may be shown. check-config's output (`maskConfig`), every log line
 * and every error message (`redactSecrets`) go through here.
 *
 * URLs are masked by position, never by parsing them the way a client would: a password written without
 * percent-encoding may hold `/ ? # @ : &`, and then a URL parser puts part of it in the host, the path, the query
 * or the fragment. So everything between the start of the authority and the LAST `@` is userinfo (only the user
 * name before the first `:` is kept), and everything after a secret-looking query parameter, or after a `#`, is
 * hidden. That hides more than needed on odd URLs, never less.
 *
 * Free text (a library's error message) may quote a URL or a password in ways no pattern foresees (where a URL
 * ends is a guess once an unencoded password may hold a blank), so `redactSecrets` also replaces the secrets the
 * configuration is known to hold (`secretsIn`), in the spellings they may take (as written, percent-decoded,
 * percent-encoded, JSON-escaped). The exporter's log function passes every line through both.
 */

export const MASK = '****';

/** Query parameters whose value is a secret (password=, sslpassword=, token=, apikey=, access_token=, sig=...). */
const SECRET_PARAM = /pass|pwd|secret|token|key|auth|sig|credential|session/i;

/** Config keys holding a secret as a value (keys ending in _file name a file, not a secret). */
const SECRET_KEY = /pass(word)?|secret|token/i;

/** `key=value` / `key: value` pairs of free text: the value and the rest of its line are hidden (it may hold blanks). */
const SECRET_PAIR =
  /\b((?:[a-z_]*pass(?:word)?|pwd|secret|[a-z_]*token|api[-_]?key|auth(?:orization)?|sig(?:nature)?)\s*[=:]\s*)(\S[^\n]*)/gi;

/**
 * A URL in free text: up to the next blank, or, when no `@` comes before it but one comes later on the line (an
 * unencoded password may hold blanks), up to the last `@` of the line.
 */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/(?:\S*@\S*|[^\n]*@\S*|\S+)/i;

/** Known secrets shorter than this are left to the patterns: replacing every "ab" in a line would garble it. */
const MIN_KNOWN_SECRET = 4;

/**
 * Where the userinfo ends: at the last `@` (as URL parsers read it), at the first one, or nowhere (the `@` belongs
 * to a query value). An unencoded password makes every reading possible, so masking hides what any of them hides.
 */
type AtReading = 'last' | 'first' | 'none';
const READINGS: readonly AtReading[] = ['last', 'first', 'none'];

/** What one reading of a URL hides: [start, end) ranges, and the secrets it finds there (as written). */
function readUrl(url: string, reading: AtReading): { ranges: Array<[number, number]>; secrets: string[] } {
  const ranges: Array<[number, number]> = [];
  const secrets: string[] = [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  const pathOnly = reading === 'none' || (scheme === null && (/^socket:/i.test(url) || url.startsWith('/')));
  const start = scheme ? scheme[0].length : 0;
  let rest = start;
  if (!pathOnly) {
    const at = reading === 'first' ? url.indexOf('@', start) : url.lastIndexOf('@');
    if (at >= start) {
      // The user name (up to the first delimiter) is shown; whatever follows it up to the @ is hidden.
      const d = url.slice(start, at).search(/[:/?#@]/);
      if (d >= 0) {
        const from = start + d + (url[start + d] === ':' ? 1 : 0);
        ranges.push([from, at]);
        secrets.push(url.slice(from, at));
      }
      rest = at + 1;
    }
  }
  const q = url.indexOf('?', rest);
  const h = url.indexOf('#', rest);
  if (h >= 0 && (q < 0 || h < q)) {
    ranges.push([h + 1, url.length]);
    secrets.push(url.slice(h + 1));
    return { ranges, secrets };
  }
  if (q < 0) return { ranges, secrets };
  const params = url.slice(q + 1).split('&');
  let pos = q + 1;
  for (const [i, param] of params.entries()) {
    const eq = param.indexOf('=');
    const hash = param.indexOf('#');
    if (eq >= 0 && (hash < 0 || eq < hash) && SECRET_PARAM.test(safeDecode(param.slice(0, eq)))) {
      // Hidden to the end: an unencoded & or # may be part of the value, so every run of the following
      // parameters is a candidate secret too.
      ranges.push([pos + eq + 1, url.length]);
      for (let j = i + 1; j <= params.length; j++)
        secrets.push(
          params
            .slice(i, j)
            .join('&')
            .slice(eq + 1),
        );
      break;
    }
    if (hash >= 0) {
      ranges.push([pos + hash + 1, url.length]);
      secrets.push(url.slice(pos + hash + 1));
      break;
    }
    pos += param.length + 1;
  }
  return { ranges, secrets };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * A URL (or a socket path, or `host:port`) with its secrets replaced by ****: the password, the value of every
 * secret-looking query parameter and everything after it, the fragment. Never throws.
 */
export function maskUrl(url: string): string {
  return maskUrlParts(url).masked;
}

/** `maskUrl`, and whether it hid everything from some point on (the rest of a line may then belong to a secret). */
function maskUrlParts(url: string): { masked: string; hidTail: boolean } {
  const ranges = READINGS.flatMap((reading) => readUrl(url, reading).ranges).sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of ranges) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  let masked = '';
  let shown = 0;
  for (const [from, to] of merged) {
    masked += url.slice(shown, from) + MASK;
    shown = to;
  }
  return { masked: masked + url.slice(shown), hidTail: merged.length > 0 && shown === url.length };
}

/**
 * Whether an `@` appears after the host: the sign of a user name or password written without percent-encoding,
 * whose tail a URL parser takes as the path, query or host. Such URLs are refused at config time.
 */
export function hasAtAfterHost(url: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url)?.[0] ?? '';
  return url.slice(authority.length).includes('@');
}

/** The secrets a URL carries, as written in it, under every reading of its `@`s. */
function urlSecrets(url: string): string[] {
  return READINGS.flatMap((reading) => readUrl(url, reading).secrets);
}

/** The spellings a secret may take in a message: as written, percent-decoded, percent-encoded, JSON-escaped. */
function spellings(secret: string): string[] {
  const decoded = safeDecode(secret);
  const forms = new Set<string>();
  for (const s of [secret, decoded]) {
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(encodeURI(s));
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  return [...forms];
}

/**
 * Every secret held by a configuration, or by a raw config document before validation: passwords and secret
 * parameters of every `url`, and every value of a secret-looking key, in all their spellings. Longest first.
 */
export function secretsIn(document: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      const raw = key === 'url' ? urlSecrets(value) : SECRET_KEY.test(key) && !key.endsWith('_file') ? [value] : [];
      for (const secret of raw)
        for (const form of spellings(secret)) if (form.length >= MIN_KNOWN_SECRET) found.add(form);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, key);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(document, '');
  return [...found].sort((a, b) => b.length - a.length);
}

/**
 * Free text with secrets removed: every URL masked (`maskUrl`), the value of `password=`, `token:`-like pairs
 * hidden, and each of the `known` secrets (from `secretsIn`) replaced wherever it appears.
 */
export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) if (secret.length >= MIN_KNOWN_SECRET) out = out.split(secret).join(MASK);
  out = out.split('\n').map(maskUrlsInLine).join('\n');
  return out.replace(SECRET_PAIR, (match, key: string, value: string) =>
    value.startsWith(MASK) ? match : `${key}${MASK}`,
  );
}

/**
 * Every URL of one line through `maskUrl`. A URL that hid a secret parameter or fragment hides the rest of the line
 * too (an unencoded secret may hold a blank, where the URL match stopped), unless it was masked already
 * (`?token=****`).
 */
function maskUrlsInLine(line: string): string {
  let out = '';
  let rest = line;
  for (let match = URL_IN_TEXT.exec(rest); match; match = URL_IN_TEXT.exec(rest)) {
    const url = match[0];
    const { masked, hidTail } = maskUrlParts(url);
    out += rest.slice(0, match.index) + masked;
    if (hidTail && masked !== url) return out;
    rest = rest.slice(match.index + url.length);
  }
  return out + rest;
}

/** A copy of the config safe to print: every `url` through `maskUrl`, secret-looking keys replaced by ****. */
export function maskConfig(config: unknown): unknown {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      if (key === 'url') return maskUrl(value);
      if (SECRET_KEY.test(key) && !key.endsWith('_file')) return MASK;
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => walk(item, key));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    return value;
  };
  return walk(config, '');
}
