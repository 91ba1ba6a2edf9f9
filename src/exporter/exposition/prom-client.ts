import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

/*
 * The parts of prom-client the exporter uses, required from their own modules instead of the package's index: the
 * index also loads the Pushgateway client (node:https and node:zlib, which start OpenSSL) and the cluster aggregator,
 * which an exporter never uses; with them gone a logs-only exporter loads no OpenSSL at all (bench/footprint.ts,
 * test/sources/lazy-package.test.ts). The types are the index's own. test/exposition/prom-client.test.ts checks that
 * each is the very object the index exports, so a prom-client release that moves a file fails a test, not a start.
 */
const requireLib = createRequire(import.meta.url);

export type Registry = PromClient.Registry;
export const Registry = requireLib('prom-client/lib/registry') as typeof PromClient.Registry;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Gauge = requireLib('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const { validateMetricName } = requireLib('prom-client/lib/validation') as Pick<
  typeof PromClient,
  'validateMetricName'
>;
export const collectDefaultMetrics = requireLib(
  'prom-client/lib/defaultMetrics',
) as typeof PromClient.collectDefaultMetrics;
