/** A problem the client caused or must know about; the message is safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Start-up failed for a reason the operator can fix; `message` is the whole story, no stack needed. */
export class CrmStartError extends Error {
  readonly code = 'CRM_START';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CrmStartError';
  }
}

/** Errors that mean PostgreSQL itself is unavailable, as opposed to a bad query. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (code.startsWith('08') ||
      code === '57P01' ||
      code === '57P03' ||
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === 'ETIMEDOUT')
  )
    return true;
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(err.message);
}

export function pgErrorCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
