import type { CasTokenError } from './CasTokenError.js';

/** The first retry waits about this long; each further one twice as long. */
export const RETRY_BASE_MS = 2_000;
/** No wait between retries is longer than this, unless the server asks for more. */
export const RETRY_MAX_MS = 30_000;
/** The longest `Retry-After` honoured; a longer one is read as this. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;

/**
 * Whether trying again can help: network failures, timeouts, 5xx and 429 can; a refusal
 * (`unauthorized`), a 4xx, or a malformed answer or token would fail the same way again.
 */
export function isRetryable(error: CasTokenError): boolean {
  switch (error.code) {
    case 'network':
    case 'timeout':
      return true;
    case 'http':
      return error.status === undefined || error.status >= 500 || error.status === 429 || error.status === 408;
    default:
      return false;
  }
}

/**
 * How long to wait before retry number `attempt` (1 for the first): exponential backoff with
 * jitter (75% to 100% of the step, so clients that failed together spread out), at most
 * `RETRY_MAX_MS`, and never less than the server's `Retry-After`. While failing that is at
 * most six requests in the first minute, then two or three a minute.
 */
export function retryDelay(attempt: number, error: CasTokenError, random: () => number = Math.random): number {
  const step = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
  const jittered = step * (0.75 + 0.25 * random());
  const asked = Math.min(error.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS);
  return Math.max(jittered, asked);
}
