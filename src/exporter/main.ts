import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Registry } from './exposition/prom-client.js';
import type { Config } from './config/schema.js';
import { buildCollectors } from './collectors/index.js';
import { CollectorOrchestrator } from './collectors/orchestrator.js';
import { registerBuildInfo } from './metrics/build-info.js';
import { registerRuntimeMetrics } from './metrics/runtime.js';
import { createLogSource, GlobLogPipeline } from './logs/glob-pipeline.js';
import type { LogPipeline } from './logs/pipeline.js';
import type { SavedPosition } from './sources/tailer.js';
import { registerPositionsHealth } from './logs/positions-health.js';
import { createApp } from './server/app.js';
import { createWebServer } from './server/web-server.js';
import { describeWebConfig, loadWebConfig } from './config/web-config.js';
import { loadPositions, PositionsWriter } from './sources/positions.js';
import { redactSecrets, secretsIn } from './config/mask.js';
import { ListenError } from './errors.js';
import { VERSION } from './version.js';

export interface RunningExporter {
  /** Base URL the server listens on, e.g. http://127.0.0.1:9464 */
  readonly url: string;
  readonly registry: Registry;
  /** The plain-file sources, in config order. */
  readonly pipelines: readonly LogPipeline[];
  /** The sources with a glob (or path labels) in config order. */
  readonly globPipelines: readonly GlobLogPipeline[];
  /**
   * Stops the server (cutting answers in flight), closes the log sources and connections. The positions file keeps
   * the offsets of the last served scrape: a restart counts again what no scrape reported.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: (line: string) => void;
}

function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(listen.slice(at + 1)) };
}

/** Composition root: builds sources, collectors and the HTTP server from a validated config. */
export async function startExporter(config: Config, options: StartOptions = {}): Promise<RunningExporter> {
  // Every log line of the exporter passes here: URLs masked, and the secrets this config holds replaced wherever a
  // library's message may quote them.
  const secrets = secretsIn(config);
  const log = (line: string): void =>
    (options.log ?? ((l) => process.stderr.write(`${l}\n`)))(redactSecrets(line, secrets));
  // First, before anything runs: a bad web config (ConfigError) must stop start-up, never leave /metrics open.
  const webConfig = config.web_config_file ? loadWebConfig(config.web_config_file) : undefined;
  const registry = new Registry();
  registerRuntimeMetrics(registry);
  registerBuildInfo(registry, VERSION);

  const saved = await loadPositions(config.positions_file, (message) => log(`positions: ${message}`));
  // A glob source's released files drop their entries (called after start(), once `positions` exists).
  const pipelines = config.logs.map((source) =>
    createLogSource(source, registry, { saved, log, onRelease: (key) => positions.forget(key) }),
  );
  // The file holds the positions of the last served scrape (see app.ts' snapshot). Sources without a saved position
  // also save where this first run started (start_at) until they count their first line, so a restart before the
  // first scrape re-reads from there instead of applying start_at again.
  // A glob source decides per file (see GlobLogPipeline.collectPositions).
  const firstRun = pipelines.filter((p) => p instanceof GlobLogPipeline || saved[p.name] === undefined);
  const positions = new PositionsWriter(
    config.positions_file,
    config.positions_interval,
    () => currentPositions(pipelines),
    (message) => log(`positions: ${message}`),
    () => currentPositions(firstRun, true),
  );
  registerPositionsHealth(registry, positions);

  const orchestrator = new CollectorOrchestrator({ registry, collectors: buildCollectors(config, registry, log), log });
  const app = createApp({
    registry,
    orchestrator,
    scrape: config.scrape,
    version: VERSION,
    sources: () => pipelines.map((p) => p.status()),
    snapshot: () => {
      const taken = positions.snapshot();
      return () => void positions.served(taken);
    },
  });

  // Listen first: if the port is taken, no log has been read and the positions file is as it was.
  const { host, port } = splitListen(config.listen);
  const server = createWebServer(app, { webConfig, registry, log });
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (err) {
    await orchestrator.close();
    throw new ListenError(config.listen, err);
  }
  server.on('error', (err) => log(`http server: ${err.message}`));
  if (webConfig) log(`web config ${webConfig.file}: ${describeWebConfig(webConfig)}`);

  await Promise.all(pipelines.map((p) => p.start()));
  positions.start();

  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `${webConfig?.tls ? 'https' : 'http'}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`,
    registry,
    pipelines: pipelines.filter((p): p is LogPipeline => !(p instanceof GlobLogPipeline)),
    globPipelines: pipelines.filter((p) => p instanceof GlobLogPipeline),
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all(pipelines.map((p) => p.close()));
        await positions.stop();
        await orchestrator.close();
        await serverClosed;
      })();
      return closing;
    },
  };
}

/** Every source's positions; `baseline`: only those that have counted nothing in this run (see PositionsWriter). */
function currentPositions(
  pipelines: readonly (LogPipeline | GlobLogPipeline)[],
  baseline = false,
): Record<string, SavedPosition> {
  // No prototype: a source named __proto__ is an ordinary key.
  const out = Object.create(null) as Record<string, SavedPosition>;
  for (const p of pipelines) {
    if (p instanceof GlobLogPipeline) {
      p.collectPositions(out, baseline);
      continue;
    }
    if (baseline && p.linesCounted > 0) continue;
    const pos = p.position();
    if (pos) out[p.name] = pos;
  }
  return out;
}
