/**
 * The default histogram upper bounds of a log source (`logs[].buckets`), in seconds. Apart from schema.ts so that
 * the log pipeline's family definitions can name them without loading the schema (zod costs ~13 MiB of RSS).
 */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
