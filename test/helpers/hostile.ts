import fc from 'fast-check';
import { CRM_LOG_KEYS } from './crm-log-keys.js';

/*
 * fast-check arbitraries for hostile input (issue 11 B5): what a compromised client, a broken logger or a corrupt
 * disk can put in an access log, an INFO reply, a config or a positions file. Each mixes realistic shapes (so the
 * interesting code paths are reached) with characters that break naive code: quotes, backslashes, newlines, NUL and
 * other controls, invalid UTF-8, huge and odd numbers.
 */

/** Characters that matter to escaping and splitting, weighted in alongside any code point. */
const NASTY = [
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\0',
  '{',
  '}',
  '=',
  ',',
  '#',
  ' ',
  '%',
  '$',
  '\u2028',
  '\u00e9',
  '\u{1F600}',
  '\x7f',
  '\x1b',
];

/** A string mixing nasty characters with any code point (lone surrogates included). */
export const hostileString = (maxLength = 40): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
        { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
      ),
      { maxLength },
    )
    .map((parts) => parts.join(''));

/** Numbers a logger or an attacker may write, as JSON text. */
export const hostileNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom(
    '200',
    '404',
    '599',
    '600',
    '99',
    '0',
    '-0',
    '1e2',
    '2e2',
    '200.0',
    '1e400',
    '-1e400',
    '1e-400',
    '0.000',
    '99999999999999999999',
    '1.7976931348623157e308',
    '4.9e-324',
    '0x10',
    '01',
    '.5',
    '5.',
    '+5',
    'NaN',
    'Infinity',
    '-',
    '1e',
    '2e+2',
  ),
  fc.double({ noNaN: true }).map(String),
);

/** A JSON value text: a string (escaped or raw), a number text, or something else. */
export const jsonValueText: fc.Arbitrary<string> = fc.oneof(
  hostileString(30).map((s) => JSON.stringify(s)),
  hostileString(30).map((s) => `"${s}"`), // unescaped: raw quotes, controls, backslashes
  hostileNumberText,
  fc.constantFrom(
    'null',
    'true',
    'false',
    '[]',
    '{}',
    '[1,2]',
    '{"a":{"b":[1]}}',
    '"\\u0000"',
    '"\\ud800"',
    '"\\u00e9"',
    '""',
  ),
);

/** The reference CRM's keys in its order: the layout the JSON parser learns and bails on. */
const JSON_KEYS = CRM_LOG_KEYS;

/** An access-log line in the reference CRM's JSON shape, each value replaced by a hostile one with some probability. */
const mutatedJsonLine: fc.Arbitrary<string> = fc
  .record({
    // mostly normal values, so that many lines are accepted and their hostile strings reach the labels
    keep: fc.array(
      fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      { minLength: JSON_KEYS.length, maxLength: JSON_KEYS.length },
    ),
    values: fc.array(jsonValueText, { minLength: JSON_KEYS.length, maxLength: JSON_KEYS.length }),
    extra: fc.option(fc.tuple(hostileString(10), jsonValueText)),
    space: fc.constantFrom('', ' ', '\t'),
  })
  .map(({ keep, values, extra, space }) => {
    const normal: Record<string, string> = {
      time: '"2026-11-27T08:00:00.123Z"',
      method: '"GET"',
      path: '"/api/customers/42?x=1"',
      route: '"/api/customers/:id"',
      status: '200',
      duration_ms: '12.5',
      bytes: '512',
      db_ms: '3.2',
      cache_ms: '0.4',
      cache: '"hit"',
      lock: '"acquired"',
      lock_wait_ms: '1.5',
      request_id: '"3f2a"',
    };
    const parts = JSON_KEYS.map((k, i) => `"${k}":${space}${keep[i] ? normal[k] : values[i]}`);
    if (extra) parts.splice(3, 0, `${JSON.stringify(extra[0])}:${extra[1]}`);
    return `{${parts.join(',')}}`;
  });

/** A valid reference CRM line whose path and route (or only path) are hostile strings: what reaches the labels. */
const hostileRouteJsonLine: fc.Arbitrary<string> = fc
  .tuple(hostileString(40), hostileString(40), fc.boolean(), fc.constantFrom(200, 404, 503))
  .map(([path, route, withRoute, status]) =>
    JSON.stringify({
      time: '2026-11-27T08:00:00Z',
      method: 'GET',
      path: `/${path}`,
      ...(withRoute && { route }),
      status,
      duration_ms: 1.5,
      bytes: 10,
      db_ms: 0.5,
      request_id: 'r',
    }),
  );

export const hostileJsonLine: fc.Arbitrary<string> = fc.oneof(mutatedJsonLine, hostileRouteJsonLine);

/** Mostly `normal`, sometimes `hostile`: lines must often be accepted for their strings to reach the labels. */
const mostly = <T>(normal: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 4, arbitrary: normal }, { weight: 1, arbitrary: hostile });

const status = mostly(fc.constantFrom('200', '404', '503'), hostileNumberText);
const seconds = mostly(fc.constantFrom('0.012', '0', '1.5'), hostileNumberText);

/** An nginx line for NGINX_FORMAT (combined plus upstream time and cache status), fields mostly valid. */
export const hostileNginxLine: fc.Arbitrary<string> = fc
  .record({
    addr: mostly(fc.constant('10.0.0.1'), hostileString(12)),
    method: mostly(fc.constantFrom('GET', 'POST', 'get', 'BREW', ''), hostileString(8)),
    path: fc.oneof(
      fc.constant('/api/customers/42'),
      hostileString(40).map((s) => `/${s}`),
      hostileString(40).map((s) => `/${s.replace(/[\s"]/g, '')}`), // what survives nginx's request line: backslashes, controls
    ),
    proto: fc.constantFrom('HTTP/1.1', 'HTTP/2.0', '', 'x'),
    status,
    bytes: mostly(fc.constantFrom('512', '0'), hostileNumberText),
    referer: hostileString(20),
    agent: hostileString(20),
    time: mostly(seconds, fc.constant('-')),
    upstream: mostly(fc.constantFrom('0.010', '0.004, 0.006', '-'), hostileString(10)),
    cache: mostly(fc.constantFrom('HIT', 'MISS', '-'), hostileString(6)),
    request: fc.option(hostileString(60), { freq: 5 }),
  })
  .map(
    (r) =>
      `${r.addr} - - [27/Nov/2026:08:00:00 +0000] "${r.request ?? `${r.method} ${r.path} ${r.proto}`}" ${r.status} ${r.bytes} "${r.referer}" "${r.agent}" ${r.time} ${r.upstream} ${r.cache}`,
  );

/** A line for REGEX_PATTERN: `METHOD PATH STATUS DURATIONms bytes=N cache=C db=Nms`, fields mostly valid. */
export const hostileRegexLine: fc.Arbitrary<string> = fc
  .tuple(
    mostly(fc.constantFrom('GET', 'PUT'), hostileString(8)),
    hostileString(30).map((s) => s.replace(/\s/g, '')),
    status,
    seconds,
    mostly(fc.constant('10'), hostileNumberText),
    fc.option(mostly(fc.constantFrom('hit', 'miss'), hostileString(6))),
    fc.option(seconds),
  )
  .map(
    ([m, p, s, d, b, c, db]) =>
      `${m} /${p} ${s} ${d}ms bytes=${b}${c === null ? '' : ` cache=${c}`}${db === null ? '' : ` db=${db}ms`}`,
  );

/** Any of the above, raw random bytes, or a line mangled byte-wise (invalid UTF-8, NULs). */
export const hostileLineBytes = (line: fc.Arbitrary<string>): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 5, arbitrary: line.map((l) => Buffer.from(l, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(line, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
        .map(([l, edits]) => {
          const b = Buffer.from(l, 'utf8');
          for (const [at, byte] of edits) if (b.length > 0) b[at % b.length] = byte;
          return b;
        }),
    },
  );

/** The regex source pattern the hostile regex lines are written for. */
export const REGEX_PATTERN =
  '^(?<method>\\S*) (?<path>\\S+) (?<status>\\S+) (?<duration_ms>\\S+)ms bytes=(?<bytes>\\S+)(?: cache=(?<cache>\\S+))?(?: db=(?<db_ms>\\S+)ms)?$';

/** An nginx log_format with upstream timing and cache status, matching hostileNginxLine. */
export const NGINX_FORMAT = `log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time $upstream_cache_status';`;

/** An INFO field value: a number (odd ones included), a `k=v,...` list, or anything. */
const infoValue: fc.Arbitrary<string> = fc.oneof(
  hostileNumberText,
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'calls',
          'usec',
          'failed_calls',
          'rejected_calls',
          'keys',
          'expires',
          'avg_ttl',
          'p50',
          'p99.9',
          'p101',
          'x',
        ),
        hostileNumberText,
      ),
      { maxLength: 4 },
    )
    .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(',')),
  hostileString(20),
);

/** An INFO reply: a real one mangled, or lines whose names Redis uses with hostile values and names. */
export const hostileRedisInfo = (real: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .array(fc.tuple(fc.nat(), hostileString(12), fc.nat({ max: 20 })), { maxLength: 8 })
      .map((edits) =>
        edits.reduce(
          (text, [at, insert, cut]) =>
            text.slice(0, at % (text.length + 1)) + insert + text.slice((at % (text.length + 1)) + cut),
          real,
        ),
      ),
    fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom('# Server', '# Commandstats', '# Latencystats', '# Keyspace', '# Stats', '#'),
            fc
              .tuple(
                fc.oneof(
                  fc.constantFrom(
                    'redis_version',
                    'redis_mode',
                    'role',
                    'uptime_in_seconds',
                    'used_memory',
                    'maxmemory',
                    'keyspace_hits',
                    'total_net_input_bytes',
                    'mem_fragmentation_ratio',
                  ),
                  fc.oneof(fc.constantFrom('get', 'set', 'config|get'), hostileString(8)).map((s) => `cmdstat_${s}`),
                  hostileString(8).map((s) => `latency_percentiles_usec_${s}`),
                  fc.nat({ max: 20 }).map((n) => `db${n}`),
                  hostileString(8),
                ),
                fc.oneof(
                  infoValue,
                  fc
                    .tuple(hostileNumberText, hostileNumberText, hostileNumberText)
                    .map(([c, u, f]) => `calls=${c},usec=${u},failed_calls=${f}`),
                ),
              )
              .map(([k, v]) => `${k}:${v}`),
          ),
          fc.constantFrom('\r\n', '\n'),
        ),
        { maxLength: 30 },
      )
      .map((lines) => lines.map(([l, eol]) => l + eol).join('')),
    hostileString(300),
  );
