import { Gauge, type Registry } from 'prom-client';
import type { ProbeConfig } from '../config/schema.js';
import { maskUrl, redactSecrets, secretsIn } from '../config/mask.js';
import { probeHttp, type ProbeResult } from '../sources/http-prober.js';
import type { Collector } from './collector.js';

export const PROBE_METRIC_NAMES = {
  success: 'crm_probe_success',
  duration: 'crm_probe_duration_seconds',
  statusCode: 'crm_probe_http_status_code',
} as const;

export function createProbeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    success: new Gauge({
      name: PROBE_METRIC_NAMES.success,
      help: 'Whether the last HTTP probe of probe.url answered 2xx (or probe.expected_status) within probe.timeout (1) or not (0).',
      registers,
    }),
    duration: new Gauge({
      name: PROBE_METRIC_NAMES.duration,
      help: 'Wall time of the last HTTP probe, request to end of body or failure, in seconds.',
      registers,
    }),
    statusCode: new Gauge({
      name: PROBE_METRIC_NAMES.statusCode,
      help: 'HTTP status code of the last probe response; 0 when no response arrived (refused, DNS, TLS or timeout).',
      registers,
    }),
  };
}

export type ProbeMetrics = ReturnType<typeof createProbeMetrics>;

/** The one synchronous write step (pure, used by the golden test). */
export function writeProbeMetrics(m: ProbeMetrics, result: ProbeResult): void {
  m.success.set(result.success ? 1 : 0);
  m.duration.set(result.durationSeconds);
  m.statusCode.set(result.status);
}

export interface ProbeCollectorOptions {
  config: ProbeConfig;
  registry: Registry;
  log?: (message: string) => void;
}

/**
 * Scrape-time availability probe of the CRM's health endpoint. A target that is down is a successful collection
 * (crm_probe_success 0); only a probe cut off by the scrape deadline fails the collector.
 * The failure reason is logged when the probe starts failing or the reason changes, not on every scrape.
 */
export class ProbeCollector implements Collector {
  readonly name = 'probe';
  readonly metrics: ProbeMetrics;
  private readonly config: ProbeConfig;
  private readonly log: (message: string) => void;
  private lastError: string | undefined;
  /** The URL's own secrets (token=, apikey=, a password), should an error message quote them. */
  private readonly secrets: string[];

  constructor(options: ProbeCollectorOptions) {
    this.config = options.config;
    this.secrets = secretsIn({ url: options.config.url });
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
    this.metrics = createProbeMetrics(options.registry);
    this.reset();
  }

  async update(signal: AbortSignal): Promise<void> {
    const result = await probeHttp({
      url: this.config.url,
      timeoutMs: this.config.timeout,
      expectedStatus: this.config.expected_status,
      signal,
    });
    signal.throwIfAborted();
    if (result.error !== this.lastError) {
      if (result.error)
        this.log(`probe ${maskUrl(this.config.url)} failed: ${redactSecrets(result.error, this.secrets)}`);
      else this.log(`probe ${maskUrl(this.config.url)} succeeded again`);
      this.lastError = result.error;
    }
    writeProbeMetrics(this.metrics, result);
  }

  reset(): void {
    this.metrics.success.set(0);
    this.metrics.duration.remove();
    this.metrics.statusCode.remove();
  }

  async close(): Promise<void> {}
}
