/**
 * The `error` of the handler's failure answers (`{ "error", "message" }`), for a program to
 * switch on: the browser's `createProxyFetcher` keeps it. Stable across versions.
 */
export type CasTokenProxyErrorCode =
  | 'method-not-allowed'
  | 'invalid-room'
  | 'unauthorized'
  | 'forbidden'
  | 'authorize-timeout'
  | 'too-many-rooms'
  | 'store-unavailable'
  | 'cas-busy'
  | 'cas-unauthorized'
  | 'cas-http'
  | 'cas-network'
  | 'cas-timeout'
  | 'cas-invalid-response'
  | 'cas-invalid-token'
  | 'internal';

/**
 * An answer the handler gives instead of a token. `message` is shown to the browser, so it
 * never holds server detail; the log line, written once where the failure happens, does.
 */
export class ProxyFailure extends Error {
  override readonly name = 'ProxyFailure';

  constructor(
    readonly status: number,
    readonly code: CasTokenProxyErrorCode,
    message: string,
    /** For 5xx answers: when to try again (`Retry-After`). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Turned away for now: 503 with a `Retry-After` of one second. */
export function busy(message: string): ProxyFailure {
  return new ProxyFailure(503, 'cas-busy', message, 1_000);
}

export function storeUnavailable(): ProxyFailure {
  return new ProxyFailure(503, 'store-unavailable', 'The token store is not answering; try again in a moment.', 1_000);
}
