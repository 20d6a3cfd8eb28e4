import type { CasTokenError } from './CasTokenError.js';

/** The first retry waits about this long; each further one twice as long. */
export const RETRY_BASE_MS = 2_000;
/** No wait between retries is longer than this, unless the server asks for more. */
export const RETRY_MAX_MS = 30_000;
/** The longest `Retry-After` honoured; a longer one is read as this. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;
/** When the proxy says CAS refused its own credentials, only a fix on the server helps: ask rarely. */
export const SLOW_RETRY_BASE_MS = 2 * 60_000;
export const SLOW_RETRY_MAX_MS = 15 * 60_000;
/** An unusable answer (a bad or expired token, a page that is not JSON) is tried this often in a row. */
export const UNUSABLE_ANSWER_ATTEMPTS = 3;

/**
 * How long to wait before retry number `failureCount` (1 for the first), in ms, or a fixed wait.
 * The server's `Retry-After` is honoured on top of it. react-query's option of the same name.
 */
export type RetryDelay = number | ((failureCount: number, error: CasTokenError) => number);

/**
 * Whether trying again can help:
 * - `always`: network failures, timeouts, 5xx, 429 and 408 (a proxy or CAS that comes back);
 * - `bounded`: an answer the client cannot use (a bad or expired token, not JSON): a proxy
 *   mid-deploy may send one, but one that keeps sending them will not change, so after
 *   `UNUSABLE_ANSWER_ATTEMPTS` in a row the error stands;
 * - `never`: a refusal (`unauthorized`, `forbidden`), another 4xx, a wrong setting.
 */
export function retryClass(error: CasTokenError): 'always' | 'bounded' | 'never' {
  switch (error.code) {
    case 'network':
    case 'timeout':
      return 'always';
    case 'http':
      return error.status === undefined || error.status >= 500 || error.status === 429 || error.status === 408
        ? 'always'
        : 'never';
    case 'invalid-token':
    case 'invalid-response':
      return 'bounded';
    default:
      return 'never';
  }
}

/**
 * The default wait before retry number `failureCount`: exponential backoff with jitter (75% to
 * 100% of the step, so clients that failed together spread out), 2 s doubling to at most 30 s:
 * at most six requests in the first minute, then two or three a minute. When the proxy says
 * CAS refused the app's key (`cas-unauthorized`), 2 minutes doubling to 15.
 */
export function defaultRetryDelay(failureCount: number, error: CasTokenError, random: () => number = Math.random): number {
  const slow = error.proxyCode === 'cas-unauthorized';
  const base = slow ? SLOW_RETRY_BASE_MS : RETRY_BASE_MS;
  const step = Math.min(slow ? SLOW_RETRY_MAX_MS : RETRY_MAX_MS, base * 2 ** Math.max(0, failureCount - 1));
  return step * (0.75 + 0.25 * random());
}

/**
 * How long to wait before the next try, never less than the server's `Retry-After` (capped at
 * 10 minutes). A custom `retryDelay` that is not a finite number of ms >= 0 counts as the default.
 */
export function retryDelayFor(
  failureCount: number,
  error: CasTokenError,
  retryDelay: RetryDelay | undefined,
  random: () => number = Math.random,
): number {
  const chosen = typeof retryDelay === 'function' ? retryDelay(failureCount, error) : retryDelay;
  const delay = typeof chosen === 'number' && Number.isFinite(chosen) && chosen >= 0 ? chosen : defaultRetryDelay(failureCount, error, random);
  return Math.max(delay, Math.min(error.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS));
}
