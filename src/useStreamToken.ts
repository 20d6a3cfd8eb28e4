import { useSyncExternalStore } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { CasTokenError } from './core/CasTokenError.js';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { useCasTokenContext } from './CasTokenContext.js';
import type { TokenScheduler } from './createTokenScheduler.js';

/** What `refresh` takes: like react-query's `refetch`, it resolves unless asked to throw. */
export interface RefreshOptions {
  /** Reject with the `CasTokenError` when the request fails. @defaultValue false */
  throwOnError?: boolean;
}

/**
 * Asks for a new token now (deduplicated with a request in flight). It never rejects unless
 * asked to: `onClick={() => refresh()}` is safe. A failure shows in `error` and `onError`.
 */
export interface RefreshStreamToken {
  /** Resolves with the new token, or undefined when the request failed. */
  (options?: RefreshOptions & { throwOnError?: false }): Promise<string | undefined>;
  /** Resolves with the new token; rejects with the `CasTokenError` when the request fails. */
  (options: RefreshOptions & { throwOnError: true }): Promise<string>;
}

interface StreamTokenStateBase {
  /**
   * The last request's error, from the moment it failed until a request succeeds. It can be set
   * while a token is still held: a renewal failed, and is retried while the token lasts.
   */
  error: CasTokenError | null;
  /** Failed requests in a row since the last token; 0 after a success. */
  failureCount: number;
  /**
   * When the next automatic retry starts (epoch ms, local clock) after a failure; undefined when
   * none is planned: no failure, or one that retrying cannot fix (it then waits for a wake-up or
   * `refresh()`).
   */
  retryAt: number | undefined;
  /** A request for a token is in flight (the first one included). */
  isRefreshing: boolean;
  refresh: RefreshStreamToken;
}

/** Holds an unexpired token. */
export interface StreamTokenSuccess extends StreamTokenStateBase {
  status: 'success';
  token: string;
  info: StreamTokenInfo;
}

/** No unexpired token yet, and the last request did not fail (it may be in flight). */
export interface StreamTokenPending extends StreamTokenStateBase {
  status: 'pending';
  token: undefined;
  info: undefined;
  error: null;
}

/** No unexpired token, and the last request failed: see `error`. */
export interface StreamTokenFailure extends StreamTokenStateBase {
  status: 'error';
  token: undefined;
  info: undefined;
  error: CasTokenError;
}

/** What `useStreamToken` returns: branch on `status` (or simply on `token`). */
export type StreamTokenState = StreamTokenSuccess | StreamTokenPending | StreamTokenFailure;

const notExpiredOnServer = () => false;

/**
 * The room's CAS token, kept renewed while the component is mounted. `token` is never an
 * expired one: it reads `undefined` from the moment the held token expires until a new one
 * arrives. Must be used inside `<CasTokenProvider>`.
 *
 * Reading only `token` re-renders the component once per new token while requests succeed:
 * `isRefreshing` is tracked only when read. A failure re-renders every consumer.
 *
 * @example
 * ```tsx
 * function Room() {
 *   const { token, status, error } = useStreamToken();
 *   if (status === 'error') return <p>Cannot join: {error.message}</p>;
 *   if (!token) return <p>Connecting…</p>;
 *   return <VideoCall token={token} />;
 * }
 * ```
 */
export function useStreamToken(): StreamTokenState {
  const { queryClient, scheduler } = useCasTokenContext('useStreamToken');
  const result = useQuery(scheduler.options, queryClient);
  return useStreamTokenState(result, scheduler);
}

/** Shared by the hooks: the query's result as a `StreamTokenState`, fields tracked lazily. */
export function useStreamTokenState(
  result: { readonly data: StreamTokenInfo | undefined; readonly fetchStatus: string },
  scheduler: TokenScheduler,
): StreamTokenState {
  const held = result.data;
  const expired = useSyncExternalStore(
    scheduler.subscribe,
    () => held !== undefined && Date.now() >= held.expiresAt,
    notExpiredOnServer,
  );
  const failure = useSyncExternalStore(scheduler.subscribe, scheduler.getFailure, scheduler.getFailure);
  const info = held && !expired ? held : undefined;
  const { error } = failure;
  const status = info ? 'success' : error ? 'error' : 'pending';
  // Getters, so that react-query only re-renders for what the component reads.
  return {
    status,
    info,
    token: info?.token,
    error,
    failureCount: failure.failureCount,
    retryAt: failure.retryAt,
    get isRefreshing() {
      return result.fetchStatus === 'fetching';
    },
    refresh: scheduler.refresh,
  } as StreamTokenState;
}
