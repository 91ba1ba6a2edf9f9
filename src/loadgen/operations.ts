/** What the load generator does to the CRM, one HTTP request per operation. */
export const OPERATIONS = [
  'getCustomer',
  'getMissing',
  'searchAge',
  'searchExactAge',
  'listCustomers',
  'rankings',
  'createCustomer',
  'updateCustomer',
  'addPoints',
  'addNote',
  'deleteCustomer',
  'changePassword',
] as const;

export type OperationName = (typeof OPERATIONS)[number];
export type Mix = Partial<Record<OperationName, number>>;

export interface PlannedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
}

/** Ids the run knows about. Customers it created itself are the only ones it deletes. */
export class Targets {
  readonly customers: number[] = [];
  readonly own: number[] = [];
  readonly users: number[] = [];
  /** Restrict password changes to the first N users (lock-storm contention). 0 = all. */
  passwordUsers = 0;
  /** Share of reads that go to the hot 20% of customers. */
  hotShare = 0.8;
  private seq = 0;

  constructor(readonly runTag: string) {}

  nextSeq(): number {
    return ++this.seq;
  }

  customer(): number | undefined {
    const n = this.customers.length;
    if (n === 0) return undefined;
    const hot = Math.max(1, Math.floor(n * 0.2));
    return this.customers[
      Math.random() < this.hotShare ? Math.floor(Math.random() * hot) : Math.floor(Math.random() * n)
    ];
  }

  user(): number | undefined {
    const n = this.passwordUsers > 0 ? Math.min(this.passwordUsers, this.users.length) : this.users.length;
    return n === 0 ? undefined : this.users[Math.floor(Math.random() * n)];
  }
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Radia', 'Linus', 'Margaret', 'Dennis'];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const randomAge = (): number => 18 + Math.floor(Math.random() * 73);

/** The request for one operation, or undefined when the run has nothing to aim it at (falls back to a read). */
export function plan(op: OperationName, t: Targets): PlannedRequest | undefined {
  switch (op) {
    case 'getCustomer': {
      const id = t.customer();
      return id === undefined ? undefined : { method: 'GET', path: `/api/customers/${id}` };
    }
    case 'getMissing':
      return { method: 'GET', path: `/api/customers/${9_000_000_000_000 + t.nextSeq()}` };
    case 'searchAge':
      return Math.random() < 0.7
        ? { method: 'GET', path: `/api/customers?age=${randomAge()}&limit=20` }
        : (() => {
            const lo = randomAge();
            return {
              method: 'GET',
              path: `/api/customers?min_age=${lo}&max_age=${Math.min(150, lo + 5)}&limit=20`,
            } as PlannedRequest;
          })();
    case 'searchExactAge':
      return { method: 'GET', path: `/api/customers?age=${randomAge()}&limit=20` };
    case 'listCustomers':
      return { method: 'GET', path: '/api/customers?limit=20' };
    case 'rankings':
      return { method: 'GET', path: `/api/rankings?limit=${pick([10, 10, 25, 100])}` };
    case 'createCustomer': {
      const n = t.nextSeq();
      return {
        method: 'POST',
        path: '/api/customers',
        body: { name: `${pick(FIRST)} Load`, email: `load.${t.runTag}.${n}@example.com`, age: randomAge() },
      };
    }
    case 'updateCustomer': {
      const id = t.customer();
      return id === undefined
        ? undefined
        : {
            method: 'PATCH',
            path: `/api/customers/${id}`,
            body: Math.random() < 0.5 ? { age: randomAge() } : { name: `${pick(FIRST)} Updated` },
          };
    }
    case 'addPoints': {
      const id = t.customer();
      return id === undefined
        ? undefined
        : { method: 'POST', path: `/api/customers/${id}/points`, body: { delta: 1 + Math.floor(Math.random() * 50) } };
    }
    case 'addNote': {
      const id = t.customer();
      return id === undefined
        ? undefined
        : { method: 'POST', path: `/api/customers/${id}/notes`, body: { body: `load test note ${t.nextSeq()}` } };
    }
    case 'deleteCustomer': {
      const id = t.own.pop();
      if (id === undefined) return undefined;
      const at = t.customers.indexOf(id);
      if (at >= 0) t.customers.splice(at, 1);
      return { method: 'DELETE', path: `/api/customers/${id}` };
    }
    case 'changePassword': {
      const id = t.user();
      return id === undefined
        ? undefined
        : { method: 'POST', path: `/api/users/${id}/password`, body: { password: `load-${t.runTag}-${t.nextSeq()}` } };
    }
  }
}

/** Learns from responses: new customers become targets. */
export function learn(op: OperationName, status: number, body: string, t: Targets): void {
  if (op !== 'createCustomer' || status !== 201) return;
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    if (typeof id === 'number') {
      t.customers.push(id);
      t.own.push(id);
    }
  } catch {
    // not JSON: nothing to learn
  }
}

/** Weighted choice; weights need not sum to 1. */
export function chooser(mix: Mix): () => OperationName {
  const entries = OPERATIONS.filter((op) => (mix[op] ?? 0) > 0).map((op) => [op, mix[op]!] as const);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  if (entries.length === 0 || !(total > 0)) throw new Error('the operation mix has no positive weight');
  return () => {
    let x = Math.random() * total;
    for (const [op, w] of entries) {
      x -= w;
      if (x < 0) return op;
    }
    return entries[entries.length - 1]![0];
  };
}
