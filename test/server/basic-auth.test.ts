import { describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { BasicAuthVerifier, parseBasicAuth } from '../../src/exporter/server/basic-auth.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

describe('parseBasicAuth', () => {
  it.each([
    [`Basic ${b64('alice:pw')}`, { user: 'alice', password: 'pw' }],
    [`basic ${b64('alice:pw')}`, { user: 'alice', password: 'pw' }],
    [`BASIC ${b64('alice:p:w:')}`, { user: 'alice', password: 'p:w:' }],
    [`Basic ${b64(':')}`, { user: '', password: '' }],
    [`Basic ${b64('élise:mot de passe')}`, { user: 'élise', password: 'mot de passe' }],
    [`Basic ${b64('alice')}`, undefined],
    ['Basic !!!!', undefined],
    ['Basic YWxpY2U6cHc', undefined],
    [`Bearer ${b64('alice:pw')}`, undefined],
    ['Basic', undefined],
    [undefined, undefined],
  ])('%s -> %o', (header, expected) => {
    expect(parseBasicAuth(header)).toEqual(expected);
  });
});

describe('BasicAuthVerifier', () => {
  const hash = bcrypt.hashSync('right', 4);
  const users = new Map([
    ['alice', hash],
    ['bob', hash.replace(/^\$2b\$/, '$2y$')],
  ]);

  it('accepts the right password ($2b$ and htpasswd $2y$ hashes) and refuses everything else', async () => {
    const verifier = new BasicAuthVerifier();
    expect(await verifier.verify(users, 'alice', 'right')).toBe('ok');
    expect(await verifier.verify(users, 'bob', 'right')).toBe('ok');
    expect(await verifier.verify(users, 'alice', 'wrong')).toBe('denied');
    expect(await verifier.verify(users, 'alice', 'right ')).toBe('denied');
    expect(await verifier.verify(users, 'carol', 'right')).toBe('denied');
    expect(await verifier.verify(users, '', '')).toBe('denied');
  });

  it('costs one bcrypt per distinct credential, not per request, and forgets when the hash changes', async () => {
    const verifier = new BasicAuthVerifier();
    for (let i = 0; i < 20; i += 1) expect(await verifier.verify(users, 'alice', 'right')).toBe('ok');
    for (let i = 0; i < 5; i += 1) expect(await verifier.verify(users, 'alice', 'wrong')).toBe('denied');
    expect(verifier.comparisons).toBe(2);
    // Concurrent first requests with the same credentials share one comparison.
    const together = await Promise.all(Array.from({ length: 5 }, () => verifier.verify(users, 'bob', 'right')));
    expect(together).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(verifier.comparisons).toBe(3);
    // A new hash for alice (file reloaded, password changed): the old password no longer passes from the cache.
    const changed = new Map([['alice', bcrypt.hashSync('new', 4)]]);
    expect(await verifier.verify(changed, 'alice', 'right')).toBe('denied');
    expect(await verifier.verify(changed, 'alice', 'new')).toBe('ok');
  });

  it('runs an unknown user through bcrypt too, so user names cannot be probed by timing', async () => {
    const seen: string[] = [];
    const verifier = new BasicAuthVerifier({ compare: async (_password, h) => (seen.push(h), false) });
    expect(await verifier.verify(users, 'mallory', 'x')).toBe('denied');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\$2b\$10\$/);
  });

  it('keeps successes when a flood of wrong passwords overflows the failure cache', async () => {
    const verifier = new BasicAuthVerifier({ cacheSize: 4, compare: async (password) => password === 'right' });
    expect(await verifier.verify(users, 'alice', 'right')).toBe('ok');
    for (let i = 0; i < 50; i += 1) await verifier.verify(users, 'alice', `guess-${i}`);
    const before = verifier.comparisons;
    expect(await verifier.verify(users, 'alice', 'right')).toBe('ok');
    expect(verifier.comparisons).toBe(before);
  });

  it('answers busy instead of queueing unbounded bcrypt work', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const verifier = new BasicAuthVerifier({ maxWaiting: 2, compare: async () => (await gate, false) });
    // One running and two waiting: the fourth distinct credential is turned away at once.
    const first = [0, 1, 2].map((i) => verifier.verify(users, 'alice', `w${i}`));
    expect(await verifier.verify(users, 'alice', 'w3')).toBe('busy');
    // The same credentials as one in flight still share it rather than being refused.
    const again = verifier.verify(users, 'alice', 'w0');
    release();
    expect(await Promise.all([...first, again])).toEqual(['denied', 'denied', 'denied', 'denied']);
    expect(await verifier.verify(users, 'alice', 'w3')).toBe('denied');
  });
});
