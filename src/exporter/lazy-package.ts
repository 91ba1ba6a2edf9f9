import { createRequire } from 'node:module';

const requirePackage = createRequire(import.meta.url);

/**
 * A package loaded on first use instead of at start-up: the drivers (pg, ioredis) cost 5-22 MiB of RSS each, and a
 * logs-only exporter never needs them (bench/footprint.ts measures it). Synchronous (`require` of a CommonJS package
 * from ESM), so the sources keep their synchronous constructors; only a package name is accepted here, never a
 * relative path (the import zones of eslint.config.js must see every edge between rooms). Import the package's types
 * with `import type` beside it.
 */
export function lazyPackage<T>(name: string): () => T {
  if (name.startsWith('.') || name.startsWith('/')) throw new Error(`lazyPackage takes a package name, not ${name}`);
  let loaded: T | undefined;
  return () => (loaded ??= requirePackage(name) as T);
}
