import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { describeWebConfig, loadWebConfig, type WebConfig } from '../config/web-config.js';

/** How soon a failed reload is tried again even if no watched file changed (a newly named file may appear). */
const RETRY_MS = 5000;

function fingerprint(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const st = statSync(file, { bigint: true });
        return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'error';
      }
    })
    .join('|');
}

/** Why `next` cannot replace `current` without a restart, or undefined. */
function needsRestart(current: WebConfig, next: WebConfig): string | undefined {
  if (Boolean(current.tls) !== Boolean(next.tls)) return 'turning TLS on or off needs a restart';
  if (current.tls && next.tls && current.tls.clientAuth !== next.tls.clientAuth)
    return 'changing client_auth_type needs a restart';
  return undefined;
}

export interface WebConfigSourceOptions {
  log: (line: string) => void;
  /** Told of every load: true when the new config is in force. */
  onReload?: (ok: boolean) => void;
  /** Applies a new config to the listening server (new TLS context). */
  apply?: (next: WebConfig) => void;
}

/**
 * The web config in force. exporter-toolkit re-reads the file on every request and the certificates on every TLS
 * handshake; we stat the file and every file it names (cheap: a few syscalls) on every request and every new
 * connection, and re-read and re-validate only when one changed. A valid change applies to the next connection and
 * request; an invalid one is logged once, the previous config stays, and onReload(false) lets a metric say so.
 */
export class WebConfigSource {
  private config: WebConfig;
  private seen: string;
  private retryAt = 0;
  private lastProblem = '';

  constructor(
    initial: WebConfig,
    private readonly options: WebConfigSourceOptions,
  ) {
    this.config = initial;
    this.seen = fingerprint(initial.files);
    options.onReload?.(true);
  }

  get(): WebConfig {
    const now = fingerprint(this.config.files);
    const failing = this.lastProblem !== '';
    if (now === this.seen && !(failing && Date.now() >= this.retryAt)) return this.config;
    this.seen = now;
    let next: WebConfig;
    try {
      next = loadWebConfig(this.config.file);
      const restart = needsRestart(this.config, next);
      if (restart) throw new ConfigError([`${this.config.file}: ${restart}`]);
      // Inside the try: this runs in a socket's 'connection' listener, where a throw would end the process.
      this.options.apply?.(next);
    } catch (err) {
      const problem = err instanceof ConfigError ? err.problems.join('; ') : String(err);
      this.retryAt = Date.now() + RETRY_MS;
      if (problem !== this.lastProblem)
        this.options.log(`web config: reload failed, keeping the previous one: ${problem}`);
      this.lastProblem = problem;
      this.options.onReload?.(false);
      return this.config;
    }
    // The fingerprint taken before reading, when the same files are watched: a write that raced with the read then
    // still differs from it and triggers another reload.
    const sameFiles =
      next.files.length === this.config.files.length && next.files.every((file, i) => file === this.config.files[i]);
    this.seen = sameFiles ? now : fingerprint(next.files);
    this.config = next;
    this.lastProblem = '';
    this.options.log(`web config: reloaded ${next.file}: ${describeWebConfig(next)}`);
    this.options.onReload?.(true);
    return next;
  }
}
