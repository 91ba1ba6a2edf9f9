/** Operational messages (not the access log): one line each on stderr. Never pass request bodies here. */
export type Logger = (level: 'info' | 'warn' | 'error', message: string) => void;

export const stderrLogger: Logger = (level, message) => {
  process.stderr.write(`${new Date().toISOString()} crm-service ${level}: ${message}\n`);
};

export const silentLogger: Logger = () => {};

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
