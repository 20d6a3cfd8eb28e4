/**
 * What went wrong, as a program can switch on it.
 *
 * - `network`: the request never got an answer (offline, DNS, connection refused). Retried.
 * - `timeout`: no answer within the time allowed. Retried.
 * - `http`: an answer with a non-2xx status other than 401/403; see `status` (and `proxyCode`
 *   for what failed behind the proxy). 5xx, 429 and 408 are retried, other 4xx are not.
 * - `unauthorized`: 401, or a redirect to an HTML page (a sign-in page): the user is not signed
 *   in. On the server (`fetchCasToken`), CAS refusing the API key (401 or 403). Not retried.
 * - `forbidden`: 403: the user may not have a token for this room (the proxy's `authorize`
 *   answered `'forbidden'`); signing in again does not change that. Not retried.
 * - `invalid-response`: an answer that is not the expected JSON `{ token }`. Retried a few
 *   times (a proxy mid-deploy), then it stands.
 * - `invalid-token`: a token that is not a decodable JWT, or whose `exp`/`iat` are not numbers,
 *   or that had less than a second left when it arrived. Retried a few times, then it stands.
 * - `invalid-config`: a setting is missing or malformed (a missing CAS URL, key or secret, a bad
 *   option). Thrown at once where the setting is given.
 */
export type CasTokenErrorCode =
  | 'network'
  | 'timeout'
  | 'http'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid-response'
  | 'invalid-token'
  | 'invalid-config';

export interface CasTokenErrorOptions {
  /** The HTTP status of the answer, for `http`, `unauthorized` and `forbidden`. */
  status?: number;
  /** How long the answer asked us to wait before trying again (`Retry-After`), in ms. */
  retryAfterMs?: number;
  /**
   * The `error` code of the token proxy's JSON error body, when it sent one (e.g.
   * `cas-unauthorized`, `cas-timeout`, `store-unavailable`): what failed behind the proxy.
   */
  proxyCode?: string;
  /** The underlying error, kept for debugging. */
  cause?: unknown;
}

/**
 * The one error type of react-cas-token: every failure, on the client and on the server, is a
 * `CasTokenError` with a `code`.
 *
 * @example
 * ```ts
 * if (error?.code === 'unauthorized') redirectToLogin();
 * if (error?.code === 'forbidden') showNotInvited();
 * ```
 */
export class CasTokenError extends Error {
  override readonly name = 'CasTokenError';
  readonly code: CasTokenErrorCode;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly proxyCode?: string;

  constructor(code: CasTokenErrorCode, message: string, options: CasTokenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.proxyCode !== undefined) this.proxyCode = options.proxyCode;
  }
}

/** True for a `CasTokenError`, also one thrown by another copy of this package. */
export function isCasTokenError(value: unknown): value is CasTokenError {
  return (
    value instanceof CasTokenError ||
    (value instanceof Error && value.name === 'CasTokenError' && typeof (value as CasTokenError).code === 'string')
  );
}
