import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

/** The repository root, where docker-compose.yml, the Dockerfile and the bundle live. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string> | string[];
  volumes?: Array<string | { type?: string; source?: string; target: string; read_only?: boolean }>;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  'x-no-healthcheck'?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** A service's mount: a bind mount of a repository path (relative source) or a named volume. */
export interface Mount {
  service: string;
  kind: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}

export function readYaml<T>(relativePath: string): T {
  return yaml.load(readFileSync(`${REPO}${relativePath}`, 'utf8')) as T;
}

/** docker-compose.yml as written (YAML anchors and merge keys resolved by js-yaml; no variable interpolation). */
export function loadCompose(): ComposeFile {
  return readYaml<ComposeFile>('docker-compose.yml');
}

/** Every volume of every service, short (`src:dst[:ro]`) and long syntax alike. */
export function mounts(compose: ComposeFile): Mount[] {
  const out: Mount[] = [];
  for (const [service, def] of Object.entries(compose.services)) {
    for (const v of def.volumes ?? []) {
      if (typeof v === 'string') {
        const [source = '', target = '', mode = ''] = v.split(':');
        const bind = source.startsWith('.') || source.startsWith('/');
        out.push({ service, kind: bind ? 'bind' : 'volume', source, target, readOnly: mode.split(',').includes('ro') });
      } else {
        out.push({
          service,
          kind: v.type === 'bind' ? 'bind' : 'volume',
          source: v.source ?? '',
          target: v.target,
          readOnly: v.read_only === true,
        });
      }
    }
  }
  return out;
}

/** The service's command as a list of arguments. */
export function commandOf(def: ComposeService): string[] {
  if (def.command === undefined) return [];
  return typeof def.command === 'string' ? def.command.split(/\s+/) : def.command;
}
