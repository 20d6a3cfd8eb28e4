import { useSyncExternalStore } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { CasTokenError } from './core/CasTokenError.js';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { useCasTokenContext } from './CasTokenContext.js';
import type { TokenScheduler } from './createTokenScheduler.js';

interface StreamTokenStateBase {
  /**
   * The last request's error, from the moment it failed until a request succeeds. It can be set
   * while a token is still held: a renewal failed, and is retried while the token lasts.
   */
  error: CasTokenError | null;
  /** A request for a token is in flight (the first one included). */
  isRefreshing: boolean;
  /** Asks for a new token now (deduplicated with a request in flight); rejects with a `CasTokenError`. */
  refresh: () => Promise<string>;
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
 * Reading only `token` re-renders the component once per new token: the other fields are
 * tracked only when read.
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
  const error = useSyncExternalStore(scheduler.subscribe, scheduler.getLastError, scheduler.getLastError);
  const info = held && !expired ? held : undefined;
  const status = info ? 'success' : error ? 'error' : 'pending';
  // Getters, so that react-query only re-renders for what the component reads.
  return {
    status,
    info,
    token: info?.token,
    error,
    get isRefreshing() {
      return result.fetchStatus === 'fetching';
    },
    refresh: scheduler.refresh,
  } as StreamTokenState;
}
