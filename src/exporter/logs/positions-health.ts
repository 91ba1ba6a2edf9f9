/** Whether the positions file can be written (docs/failure-modes.md): read from the writer's state at scrape time. */
import type { Registry } from 'prom-client';
import { defineFamily, registerFamily } from '../exposition/family.js';

const WRITE_SUCCESS = defineFamily({
  name: 'crm_positions_write_success',
  help: 'Whether the last write of the positions file succeeded (1; also before the first write) or failed (0).',
  type: 'gauge',
  labelNames: [],
});
const WRITE_ERRORS = defineFamily({
  name: 'crm_positions_write_errors_total',
  help: 'Writes of the positions file that failed (disk full, permission denied, ...); each is retried at the next interval.',
  type: 'counter',
  labelNames: [],
});

export const POSITIONS_WRITE_SUCCESS = WRITE_SUCCESS.name;
export const POSITIONS_WRITE_ERRORS_TOTAL = WRITE_ERRORS.name;

export interface PositionsHealth {
  readonly lastWriteOk: boolean;
  readonly writeErrors: number;
}

export function registerPositionsHealth(registry: Registry, writer: PositionsHealth): void {
  registerFamily(registry, WRITE_SUCCESS, (emit) => emit(writer.lastWriteOk ? 1 : 0));
  registerFamily(registry, WRITE_ERRORS, (emit) => emit(writer.writeErrors));
}
