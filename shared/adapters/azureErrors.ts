/** How the adapters read Azure SDK errors before translating them into the service's error family. */

/** Statuses that say the service is failing or busy right now, so a later try may succeed. */
const OUTAGE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Node's codes for a peer that cannot be reached, as the SDKs pass them through. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** The HTTP status of an Azure Storage SDK error (RestError), or undefined when no response came back. */
export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? (error as { statusCode?: number }).statusCode : undefined;
}

/** Node's network error code carried by an error, if any. */
export function networkCodeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code) ? code : undefined;
}

/**
 * Whether an error says the storage service could not be reached or is failing: a RestError with an
 * outage status, a RestError with no response at all, or a network error. Anything else (a TypeError,
 * a 400 the service refused) is not an outage: it is a bug, and must not be answered "retry later".
 */
export function isStorageOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = statusOf(error);
  if (status !== undefined) return OUTAGE_STATUSES.has(status);
  return error.name === 'RestError' || networkCodeOf(error) !== undefined;
}

/** Whether an SDK operation stopped because its abort signal fired (a deadline passed): the SDKs throw an `AbortError`. */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
