import { Counter, Gauge, type Registry } from 'prom-client';

export const WEB_CONFIG_RELOAD_SUCCESSFUL = 'crm_exporter_web_config_last_reload_successful';
export const WEB_CONFIG_RELOAD_TIMESTAMP = 'crm_exporter_web_config_last_reload_success_timestamp_seconds';
export const WEB_REJECTED = 'crm_exporter_web_rejected_total';

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

/** Families of the web config layer (registered only when web_config_file is set). */
export function registerWebMetrics(registry: Registry): WebMetrics {
  const successful = new Gauge({
    name: WEB_CONFIG_RELOAD_SUCCESSFUL,
    help: '1 when the last load of web_config_file (and the certificates it names) succeeded; 0 while a changed file is invalid and the previous one is kept.',
    registers: [registry],
  });
  const timestamp = new Gauge({
    name: WEB_CONFIG_RELOAD_TIMESTAMP,
    help: 'Unix time of the last successful load of web_config_file.',
    registers: [registry],
  });
  const rejected = new Counter({
    name: WEB_REJECTED,
    help: 'Clients turned away by the web config: 401 (unauthorized), 429 (rate_limited, auth_busy), failed TLS handshakes and client certificates refused after one.',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  return {
    reloaded(ok) {
      successful.set(ok ? 1 : 0);
      if (ok) timestamp.set(Date.now() / 1000);
    },
    rejected(reason) {
      rejected.inc({ reason });
    },
  };
}
