import type { Mix } from './operations.js';

/** A realistic CRM day: mostly reads, some searches and rankings, a trickle of writes. */
export const STEADY_MIX: Mix = {
  getCustomer: 52,
  getMissing: 2,
  searchAge: 12,
  listCustomers: 2,
  rankings: 10,
  createCustomer: 4,
  updateCustomer: 4,
  addPoints: 8,
  addNote: 3,
  deleteCustomer: 1,
  changePassword: 2,
};

/** The admin fault switches (see the service's /admin/faults). */
export interface FaultSettings {
  latency_ms?: number;
  latency_route?: string | null;
  error_rate?: number;
  error_route?: string | null;
  cache_bypass?: boolean;
  lock_hold_ms?: number;
  slow_query_ms?: number;
  slow_query_route?: string | null;
}

export interface Phase {
  /** Fraction of the run (0..1) at which this phase starts. */
  at: number;
  /** Faults from here on; null switches them off. */
  faults: FaultSettings | null;
  /** Also empty the Redis cache when the phase starts. */
  flushCache?: boolean;
  label: string;
}

export interface Scenario {
  description: string;
  mix: Mix;
  phases: Phase[];
  /** Concentrate password changes on this many users (0 = spread). */
  passwordUsers?: number;
}

const burst = (label: string, faults: FaultSettings, flushCache = false): Phase[] => [
  { at: 0.25, faults, flushCache, label },
  { at: 0.75, faults: null, label: 'recovered' },
];

export const SCENARIOS = {
  steady: { description: 'the steady mix, no faults', mix: STEADY_MIX, phases: [] },
  'error-burst': {
    description: '30% of API requests answer 500 during the middle half of the run',
    mix: STEADY_MIX,
    phases: burst('error burst', { error_rate: 0.3 }),
  },
  latency: {
    description: '+300 ms on GET /api/customers/:id during the middle half',
    mix: STEADY_MIX,
    phases: burst('latency', { latency_ms: 300, latency_route: '/api/customers/:id' }),
  },
  'cache-outage': {
    description: 'Redis cache flushed and bypassed during the middle half: reads fall through to PostgreSQL',
    mix: STEADY_MIX,
    phases: burst('cache outage', { cache_bypass: true }, true),
  },
  'lock-storm': {
    description: 'password changes concentrated on 2 users while lock holders linger 500 ms: 409s with Retry-After',
    mix: { ...STEADY_MIX, changePassword: 15 },
    passwordUsers: 2,
    phases: burst('lock storm', { lock_hold_ms: 500 }),
  },
  'slow-query': {
    description: 'pg_sleep(0.4) in every age search during the middle half',
    mix: STEADY_MIX,
    phases: burst('slow queries', { slow_query_ms: 400, slow_query_route: '/api/customers' }),
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}
