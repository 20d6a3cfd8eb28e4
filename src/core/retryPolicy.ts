import type { CasTokenError } from './CasTokenError.js';

/** The first retry waits about this long; each further one twice as long. */
export const RETRY_BASE_MS = 2_000;
/**
 * No wait between retries is longer than this while a valid token is held (a renewal or a check
 * failed: there is time), unless the server asks for more.
 */
export const RETRY_MAX_MS = 30_000;
/**
 * Nor longer than this while no token is held (the page shows none): a proxy that is back serves
 * the page within about 3 s. Every 2-3 s, one request per browser (the tabs share it).
 */
export const NO_TOKEN_RETRY_MAX_MS = 3_000;
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

/** What the wait depends on besides the failure: whether a valid token is held meanwhile. */
export interface RetryContext {
  /** A valid token is held: a renewal or a check failed, and there is time. @defaultValue false */
  holding?: boolean;
  /** The proxy's check interval, when it wants checks: a failed check is retried by then. */
  checkIntervalMs?: number | undefined;
}

/**
 * The default wait before retry number `failureCount`: exponential backoff with jitter (75% to
 * 100% of the step, so clients that failed together spread out), 2 s doubling to at most 30 s
 * while a token is held (and no later than the next check would be), 3 s while none is. When the
 * proxy says CAS refused the app's key (`cas-unauthorized`), 2 minutes doubling to 15.
 */
export function defaultRetryDelay(
  failureCount: number,
  error: CasTokenError,
  random: () => number = Math.random,
  { holding = false, checkIntervalMs }: RetryContext = {},
): number {
  const slow = error.proxyCode === 'cas-unauthorized';
  const base = slow ? SLOW_RETRY_BASE_MS : RETRY_BASE_MS;
  const cap = slow ? SLOW_RETRY_MAX_MS : holding ? Math.min(RETRY_MAX_MS, checkIntervalMs ?? RETRY_MAX_MS) : NO_TOKEN_RETRY_MAX_MS;
  const step = Math.min(cap, base * 2 ** Math.max(0, failureCount - 1));
  return step * (0.75 + 0.25 * random());
}

/**
 * How long to wait before the next try. The token proxy's own `Retry-After` (an answer with its
 * JSON error code) says when it can serve again: with no token held it is followed as it is, plus
 * up to 25 % so clients spread out, whatever the backoff has grown to. Otherwise the wait is never
 * less than a `Retry-After` (capped at 10 minutes). A custom `retryDelay` that is not a finite
 * number of ms >= 0 counts as the default.
 */
export function retryDelayFor(
  failureCount: number,
  error: CasTokenError,
  retryDelay: RetryDelay | undefined,
  random: () => number = Math.random,
  context: RetryContext = {},
): number {
  const chosen = typeof retryDelay === 'function' ? retryDelay(failureCount, error) : retryDelay;
  const custom = typeof chosen === 'number' && Number.isFinite(chosen) && chosen >= 0;
  const retryAfterMs = Math.min(error.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS);
  if (!custom && !context.holding && error.retryAfterMs !== undefined && error.proxyCode !== undefined && error.proxyCode !== 'cas-unauthorized') {
    return retryAfterMs * (1 + 0.25 * random());
  }
  const delay = custom ? chosen : defaultRetryDelay(failureCount, error, random, context);
  return Math.max(delay, retryAfterMs);
}
