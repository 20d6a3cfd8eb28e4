/** What a fetcher is given for each request. */
export interface StreamTokenFetcherContext {
  /** Fires when the token is no longer needed (the last consumer unmounted): abort the request. */
  signal: AbortSignal;
  /** The watch-party room (CAS session) the token is for, when the provider was given one. */
  room?: string;
}

/**
 * A fetcher's answer: the token, optionally with how long it has left and when the proxy
 * replaces it. Both count in ms from the moment the request was sent, so they are right however
 * wrong the browser's clock is and however long a proxy cached the token:
 * - `expiresIn`: the time the token has left (capped by the token's own `exp - iat`);
 * - `refreshIn`: the time until the proxy hands out a new token for the room. The client renews
 *   then (or at its own lead before expiry, if sooner), so every participant switches together.
 */
export type StreamTokenFetchResult = string | { token: string; expiresIn?: number; refreshIn?: number };

/**
 * Gets a CAS token from the app's own backend proxy (never from CAS itself: that needs the API
 * secret). `createProxyFetcher(url)` makes one for `react-cas-token/server`'s handler.
 */
export type StreamTokenFetcher = (context: StreamTokenFetcherContext) => Promise<StreamTokenFetchResult>;
