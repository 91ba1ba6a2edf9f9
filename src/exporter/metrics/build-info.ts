import type { Registry } from 'prom-client';
import { defineFamily, registerFamily } from '../exposition/family.js';

const BUILD_INFO_FAMILY = defineFamily({
  name: 'crm_exporter_build_info',
  help: 'Always 1; the version label names the running crm-exporter release.',
  type: 'gauge',
  labelNames: ['version'],
});

export const BUILD_INFO = BUILD_INFO_FAMILY.name;

/** One series, `{version}` 1, for the life of the process. */
export function registerBuildInfo(registry: Registry, version: string): void {
  registerFamily(registry, BUILD_INFO_FAMILY, (emit) => emit(1, [version]));
}
