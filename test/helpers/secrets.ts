import fc from 'fast-check';

/*
 * Random secrets for the "never in any output" property tests, and the URL shapes they are put in.
 */

const PRINTABLE = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
/** The characters that move parts of an unencoded password elsewhere in a URL, drawn more often. */
const URL_SYNTAX = fc.constantFrom('/', '?', '#', '@', ':', '%', '&', '=', '+', ' ', '[', ']', '\\', '"', "'");

/**
 * A password of 8-24 printable characters (ASCII with URL syntax favoured, or any grapheme), with at least 4
 * distinct characters so that it cannot appear in an output by chance.
 */
export const secretArbitrary: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: fc.oneof(PRINTABLE, URL_SYNTAX), minLength: 8, maxLength: 24 }),
    fc.string({ unit: 'grapheme', minLength: 8, maxLength: 24 }),
  )
  .filter((s) => new Set(s).size >= 4 && s.trim() === s);

/** The spellings a leak may take: as is, and percent-encoded. */
export function secretForms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret)])];
}

/**
 * The spellings of `secret` found in `output`. The mask itself is cut out first, so that a password made of
 * asterisks and what follows a mask (`**@127.0`) is not taken for a leak.
 */
export function leaksIn(output: string, secret: string): string[] {
  const unmasked = output.split('****').join('\u0000');
  return secretForms(secret).filter((form) => unmasked.includes(form));
}

export interface SecretUrls {
  redis: string[];
  postgres: string[];
  probe: string[];
}

/** Every URL shape a password can be given in, for each kind of URL, with the password as is or percent-encoded. */
export function secretUrlsByKind(
  secret: string,
  encoded: boolean,
  ports: { redis: number; postgres: number; probe: number },
): SecretUrls {
  const s = encoded ? encodeURIComponent(secret) : secret;
  return {
    redis: [`redis://:${s}@127.0.0.1:${ports.redis}/0`, `redis://app:${s}@127.0.0.1:${ports.redis}`],
    postgres: [
      `postgres://postgres:${s}@127.0.0.1:${ports.postgres}/postgres`,
      `postgres://postgres@127.0.0.1:${ports.postgres}/postgres?sslmode=disable&password=${s}`,
      `socket:/tmp/crm-no-such-dir?db=postgres&password=${s}`,
      `/tmp/crm-no-such-dir?password=${s}`,
    ],
    probe: [
      `http://127.0.0.1:${ports.probe}/health?token=${s}`,
      `http://127.0.0.1:${ports.probe}/health?format=json&apikey=${s}&x=1`,
      `http://probe:${s}@127.0.0.1:${ports.probe}/health`,
    ],
  };
}

/** All the shapes of `secretUrlsByKind` in one list. */
export function urlsWithSecret(secret: string, encoded: boolean, port: number): string[] {
  const urls = secretUrlsByKind(secret, encoded, { redis: port, postgres: port, probe: port });
  return [...urls.redis, ...urls.postgres, ...urls.probe];
}
