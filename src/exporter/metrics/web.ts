/**
 * The web config layer's metrics (registered only when web_config_file is set): rendered at scrape time from the
 * plain counts the web server keeps (exposition/family.ts).
 */
import type { Registry } from 'prom-client';
import { defineFamily, registerFamily } from '../exposition/family.js';

const RELOAD_SUCCESSFUL = defineFamily({
  name: 'crm_exporter_web_config_last_reload_successful',
  help: '1 when the last load of web_config_file (and the certificates it names) succeeded; 0 while a changed file is invalid and the previous one is kept.',
  type: 'gauge',
  labelNames: [],
});
const RELOAD_TIMESTAMP = defineFamily({
  name: 'crm_exporter_web_config_last_reload_success_timestamp_seconds',
  help: 'Unix time of the last successful load of web_config_file.',
  type: 'gauge',
  labelNames: [],
  unit: 'seconds',
});
const REJECTED = defineFamily({
  name: 'crm_exporter_web_rejected_total',
  help: 'Clients turned away by the web config: 401 (unauthorized), 429 (rate_limited, auth_busy), failed TLS handshakes and client certificates refused after one.',
  type: 'counter',
  labelNames: ['reason'],
});

export const WEB_CONFIG_RELOAD_SUCCESSFUL = RELOAD_SUCCESSFUL.name;
export const WEB_CONFIG_RELOAD_TIMESTAMP = RELOAD_TIMESTAMP.name;
export const WEB_REJECTED = REJECTED.name;

/** Why the web layer turned a client away before the exporter's own handlers saw it. */
export const REJECT_REASONS = [
  'unauthorized',
  'rate_limited',
  'auth_busy',
  'tls_handshake',
  'client_certificate',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface WebMetrics {
  reloaded(ok: boolean): void;
  rejected(reason: RejectReason): void;
}

/**
 * The web config layer's families in `registry`, and the recorder that feeds them. Every reason is served from the
 * start (0 until a client is turned away for it), so `rate()` sees the first refusal; before the first load both
 * reload gauges read 0.
 */
export function registerWebMetrics(registry: Registry): WebMetrics {
  let lastReloadOk = false;
  let lastSuccessSeconds = 0;
  const rejections = new Map<RejectReason, number>(REJECT_REASONS.map((reason) => [reason, 0]));
  registerFamily(registry, RELOAD_SUCCESSFUL, (emit) => emit(lastReloadOk ? 1 : 0));
  registerFamily(registry, RELOAD_TIMESTAMP, (emit) => emit(lastSuccessSeconds));
  registerFamily(registry, REJECTED, (emit) => {
    for (const [reason, count] of rejections) emit(count, [reason]);
  });
  return {
    reloaded(ok) {
      lastReloadOk = ok;
      if (ok) lastSuccessSeconds = Date.now() / 1000;
    },
    rejected(reason) {
      rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
    },
  };
}
