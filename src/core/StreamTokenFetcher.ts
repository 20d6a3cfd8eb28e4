/** What a fetcher is given for each request. */
export interface StreamTokenFetcherContext {
  /** Fires when the token is no longer needed (the last consumer unmounted): abort the request. */
  signal: AbortSignal;
  /** The watch-party room (CAS session) the token is for, when the provider was given one. */
  room?: string;
  /**
   * The token this tab holds and the proxy's seal of it, when the proxy gave one: sent back with
   * each renewal and check, so a proxy whose store lost the room puts this token back instead of
   * starting a second session. `createProxyFetcher` sends it as the `x-cas-token-held` header.
   */
  held?: { token: string; seal: string };
}

/**
 * A fetcher's answer: the token, optionally with how long it has left and when the proxy
 * replaces it, in ms, so they are right however wrong the browser's clock is:
 * - `expiresIn`: the time the token has left, counted from when the request was sent (capped by
 *   the token's own `exp - iat`): time in transit never becomes extra life;
 * - `refreshIn`: the time until the proxy hands out a new token for the room, counted from when
 *   the answer arrived. The client renews then (or at its own lead before expiry, if sooner), so
 *   every participant switches together, however long each one's request took;
 * - `checkIn`: how often to check that the token held is still the room's (at least 1 s);
 * - `seal`: the proxy's proof of the token, sent back as `held` with the next request.
 */
export type StreamTokenFetchResult =
  | string
  | { token: string; expiresIn?: number; refreshIn?: number; checkIn?: number; seal?: string };

/**
 * Gets a CAS token from the app's own backend proxy (never from CAS itself: that needs the API
 * secret). `createProxyFetcher(url)` makes one for `react-cas-token/server`'s handler.
 */
export type StreamTokenFetcher = (context: StreamTokenFetcherContext) => Promise<StreamTokenFetchResult>;
