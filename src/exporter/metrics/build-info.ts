import { Gauge, type Registry } from 'prom-client';

export const BUILD_INFO = 'crm_exporter_build_info';

export function registerBuildInfo(registry: Registry, version: string): void {
  const gauge = new Gauge({
    name: BUILD_INFO,
    help: 'Always 1; the version label names the running crm-exporter release.',
    labelNames: ['version'],
    registers: [registry],
  });
  gauge.set({ version }, 1);
}
