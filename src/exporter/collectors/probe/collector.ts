import type { Registry } from 'prom-client';
import type { ProbeConfig } from '../../config/schema.js';
import { maskUrl, redactSecrets, secretsIn } from '../../config/mask.js';
import { defineFamily, registerFamily } from '../../exposition/family.js';
import { probeHttp, type ProbeResult } from '../../sources/http-prober.js';
import { registerSnapshotFamilies, snapshotFamily, type Collector, type SnapshotFamily } from '../collector.js';

/*
 * The availability probe of the CRM's health endpoint: sources/http-prober.ts makes the request, its ProbeResult is
 * the snapshot, and the families below read its fields.
 */

/** Rendered with or without a snapshot: 0 until the first probe, and after a probe cut off by the scrape deadline. */
export const PROBE_SUCCESS = defineFamily({
  name: 'crm_probe_success',
  help: 'Whether the last HTTP probe of probe.url answered 2xx (or probe.expected_status) within probe.timeout (1) or not (0).',
  type: 'gauge',
  labelNames: [],
});

export const PROBE_FAMILIES: readonly SnapshotFamily<ProbeResult>[] = [
  snapshotFamily(
    defineFamily({
      name: 'crm_probe_duration_seconds',
      help: 'Wall time of the last HTTP probe, request to end of body or failure, in seconds.',
      type: 'gauge',
      labelNames: [],
      unit: 'seconds',
    }),
    (r: ProbeResult, emit) => emit(r.durationSeconds),
  ),
  snapshotFamily(
    defineFamily({
      name: 'crm_probe_http_status_code',
      help: 'HTTP status code of the last probe response; 0 when no response arrived (refused, DNS, TLS or timeout).',
      type: 'gauge',
      labelNames: [],
    }),
    (r: ProbeResult, emit) => emit(r.status),
  ),
];

/** Registers the probe's families in `registry`, rendering `served()` at scrape time. */
export function registerProbeFamilies(registry: Registry, served: () => ProbeResult | undefined): void {
  registerFamily(registry, PROBE_SUCCESS, (emit) => emit(served()?.success ? 1 : 0));
  registerSnapshotFamilies(registry, undefined, PROBE_FAMILIES, served);
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
export class ProbeCollector implements Collector<ProbeResult> {
  readonly name = 'probe';
  served: ProbeResult | undefined;
  private readonly config: ProbeConfig;
  private readonly log: (message: string) => void;
  private lastError: string | undefined;
  /** The URL's own secrets (token=, apikey=, a password), should an error message quote them. */
  private readonly secrets: string[];

  constructor(options: ProbeCollectorOptions) {
    this.config = options.config;
    this.secrets = secretsIn({ url: options.config.url });
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
    registerProbeFamilies(options.registry, () => this.served);
  }

  async update(signal: AbortSignal): Promise<ProbeResult> {
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
    return result;
  }

  async close(): Promise<void> {}
}
