import type { Config } from './schema.js';

const SECRET_KEYS = /pass(word)?|secret|token/i;

function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    for (const key of [...parsed.searchParams.keys()]) if (SECRET_KEYS.test(key)) parsed.searchParams.set(key, '****');
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:****@');
  }
}

/** A copy of the config safe to print: passwords in URLs and secret-looking keys replaced by ****. */
export function maskConfig(config: Config): unknown {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      if (key === 'url') return maskUrl(value);
      if (SECRET_KEYS.test(key) && !key.endsWith('_file')) return '****';
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
