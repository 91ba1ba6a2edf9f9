/**
 * The reference CRM's access-log keys, in the order its lines write them (the log contract the exporter's JSON
 * parser reads; docs/crm.md). Written out here, not read from src/crm, so a test of the log checks the contract.
 */
export const CRM_LOG_KEYS: readonly string[] = [
  'time',
  'method',
  'path',
  'route',
  'status',
  'duration_ms',
  'bytes',
  'db_ms',
  'cache_ms',
  'cache',
  'lock',
  'lock_wait_ms',
  'request_id',
];
