/** Whether the positions file can be written (docs/failure-modes.md): read from the writer's state at scrape time. */
import { Counter, Gauge, type Registry } from 'prom-client';

export const POSITIONS_WRITE_SUCCESS = 'crm_positions_write_success';
export const POSITIONS_WRITE_ERRORS_TOTAL = 'crm_positions_write_errors_total';

export interface PositionsHealth {
  readonly lastWriteOk: boolean;
  readonly writeErrors: number;
}

export function registerPositionsHealth(registry: Registry, writer: PositionsHealth): void {
  new Gauge({
    name: POSITIONS_WRITE_SUCCESS,
    help: 'Whether the last write of the positions file succeeded (1; also before the first write) or failed (0).',
    registers: [registry],
    collect() {
      this.set(writer.lastWriteOk ? 1 : 0);
    },
  });
  new Counter({
    name: POSITIONS_WRITE_ERRORS_TOTAL,
    help: 'Writes of the positions file that failed (disk full, permission denied, ...); each is retried at the next interval.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(writer.writeErrors);
    },
  });
}
