import { hashKey, type Query, type QueryClient, type QueryCacheNotifyEvent } from '@tanstack/react-query';
import { isCasTokenError, type CasTokenError } from './core/CasTokenError.js';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { isRetryable, retryDelay } from './core/retryPolicy.js';
import { setLongTimeout } from './core/setLongTimeout.js';
import type { StreamTokenFetcher } from './core/StreamTokenFetcher.js';
import { buildStreamTokenQuery } from './streamTokenQueryOptions.js';

/** What the provider hands over on every render: read at the moment it is needed. */
export interface LatestProps {
  fetcher: StreamTokenFetcher;
  onToken?: ((info: StreamTokenInfo) => void) | undefined;
  onError?: ((error: CasTokenError) => void) | undefined;
}

export interface TokenSchedulerOptions {
  queryClient: QueryClient;
  room: string | undefined;
  refreshLeadMs: number;
  /** The provider's current props, read when they are needed. */
  getLatest: () => LatestProps;
}

export type TokenScheduler = ReturnType<typeof createTokenScheduler>;

// Events after which a timer may have been missed: the machine slept, or the tab was frozen.
const WAKE_EVENTS = ['focus', 'pageshow', 'online'] as const;

const ignore = () => {};

/**
 * Keeps one room's token alive while any component reads it: renews it at `refreshAt`, retries
 * failures with backoff, wakes consumers when the token expires, catches up after sleep, and
 * aborts the request in flight when the last consumer leaves. One per provider, whatever the
 * number of consumers. Time is read from `Date.now()` at every decision, never accumulated.
 */
export function createTokenScheduler({ queryClient, room, refreshLeadMs, getLatest }: TokenSchedulerOptions) {
  let inflight: AbortController | undefined;
  const options = buildStreamTokenQuery(
    { fetcher: (context) => getLatest().fetcher(context), room, refreshLeadMs },
    () => {
      // Our own signal, not react-query's: react-query would cancel and forget the request the
      // moment StrictMode unmounts its consumers for an instant, and then request again.
      inflight = new AbortController();
      return inflight.signal;
    },
  );
  const queryHash = hashKey(options.queryKey);
  const listeners = new Set<() => void>();
  let cancelTimer: (() => void) | undefined;
  let stopListening: (() => void) | undefined;
  // What the query's counters looked like at the last decision, and what followed from them.
  let dataSeen = 0;
  let errorsSeen = 0;
  let failures = 0;
  let retryAt: number | undefined;
  let lastError: CasTokenError | null = null;

  const findQuery = () =>
    queryClient.getQueryCache().find<StreamTokenInfo, CasTokenError>({ queryKey: options.queryKey, exact: true });

  const notify = () => listeners.forEach((listener) => listener());

  /** A fetch now, or the one in flight. Never a second one at the same time. */
  const fetchToken = () => queryClient.fetchQuery({ ...options, staleTime: 0 });

  /**
   * Reads failures and successes from the query's own counters rather than from events:
   * observers hear of a failure before the cache's listeners do, and may ask for a decision in
   * between; and a provider that mounts late finds the query as it is.
   */
  function catchUp(state: Query<StreamTokenInfo, CasTokenError>['state']) {
    const newData = state.dataUpdateCount !== dataSeen;
    const newError = state.errorUpdateCount !== errorsSeen;
    dataSeen = state.dataUpdateCount;
    errorsSeen = state.errorUpdateCount;
    const { error } = state;
    if (newError && state.status === 'error' && isCasTokenError(error)) {
      failures = newData ? 1 : failures + 1;
      retryAt = isRetryable(error) ? state.errorUpdatedAt + retryDelay(failures, error) : undefined;
      lastError = error;
      notify();
    } else if (newData) {
      failures = 0;
      retryAt = undefined;
      if (lastError) {
        lastError = null;
        notify();
      }
    }
  }

  function dueAt(query: Query<StreamTokenInfo, CasTokenError>, now: number): number {
    const { status, data } = query.state;
    if (status === 'error') return retryAt ?? Number.POSITIVE_INFINITY;
    return data ? data.refreshAt : now;
  }

  function evaluate() {
    cancelTimer?.();
    cancelTimer = undefined;
    const query = findQuery();
    if (!stopListening || !query) return;
    catchUp(query.state);
    if (query.getObserversCount() === 0 || query.state.fetchStatus !== 'idle') return;
    const now = Date.now();
    const fetchAt = dueAt(query, now);
    if (fetchAt <= now) {
      fetchToken().catch(ignore);
      return;
    }
    const expiresAt = query.state.data?.expiresAt ?? Number.POSITIVE_INFINITY;
    const wakeAt = Math.min(fetchAt, expiresAt > now ? expiresAt : Number.POSITIVE_INFINITY);
    if (wakeAt !== Number.POSITIVE_INFINITY) {
      cancelTimer = setLongTimeout(() => {
        notify();
        evaluate();
      }, wakeAt);
    }
  }

  function abortIfAbandoned() {
    const query = findQuery();
    if (!query || query.getObserversCount() > 0 || query.state.fetchStatus === 'idle') return;
    queryClient.cancelQueries({ queryKey: options.queryKey, exact: true }).catch(ignore);
    inflight?.abort();
  }

  function onCacheEvent(event: QueryCacheNotifyEvent) {
    if (event.query.queryHash !== queryHash) return;
    if (event.type === 'updated') {
      const { action } = event;
      if (action.type === 'success') {
        const info = event.query.state.data as StreamTokenInfo | undefined;
        if (info && !action.manual) getLatest().onToken?.(info);
      } else if (action.type === 'error' && isCasTokenError(action.error)) {
        getLatest().onError?.(action.error);
      }
    } else if (event.type === 'observerRemoved' && event.query.getObserversCount() === 0) {
      // Wait out the same task: a consumer that comes straight back (StrictMode, a remount)
      // keeps the request.
      queueMicrotask(abortIfAbandoned);
    }
    evaluate();
  }

  function onWake(event: Event) {
    if (event.type === 'visibilitychange' && document.visibilityState !== 'visible') return;
    if (event.type === 'online' && retryAt !== undefined) retryAt = Date.now();
    notify();
    evaluate();
  }

  return {
    options,

    /** Starts the timers and listeners; returns the function that stops them. */
    start(): () => void {
      const unsubscribe = queryClient.getQueryCache().subscribe(onCacheEvent);
      const hasWindow = typeof window !== 'undefined';
      if (hasWindow) {
        WAKE_EVENTS.forEach((type) => window.addEventListener(type, onWake));
        document.addEventListener('visibilitychange', onWake);
      }
      stopListening = () => {
        unsubscribe();
        if (hasWindow) {
          WAKE_EVENTS.forEach((type) => window.removeEventListener(type, onWake));
          document.removeEventListener('visibilitychange', onWake);
        }
      };
      evaluate();
      return () => {
        stopListening?.();
        stopListening = undefined;
        cancelTimer?.();
        cancelTimer = undefined;
        queueMicrotask(abortIfAbandoned);
      };
    },

    /** For `useSyncExternalStore`: called when the token expires, on wake-ups and on errors. */
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** The last request's error until a request succeeds, also while a retry is in flight. */
    getLastError: (): CasTokenError | null => lastError,

    /** A new token now, deduplicated with a request in flight. */
    refresh: async (): Promise<string> => (await fetchToken()).token,

    /**
     * The held token when it stays valid long enough, else a new one (deduplicated).
     * Without `minValidityMs`, valid long enough means not yet due for renewal.
     */
    getToken: async (minValidityMs?: number): Promise<string> => {
      const held = findQuery()?.state.data;
      const now = Date.now();
      if (held && (minValidityMs === undefined ? now < held.refreshAt : held.expiresAt - now >= minValidityMs)) {
        return held.token;
      }
      return (await fetchToken()).token;
    },

    /**
     * Resolves when the next request settles, starting one when none is in flight (after the
     * backoff, when the last one failed). For Suspense, where no consumer has mounted yet.
     */
    whenSettled(): Promise<void> {
      return new Promise<void>((resolve) => {
        const run = () => fetchToken().then(() => resolve(), () => resolve());
        const query = findQuery();
        if (query) catchUp(query.state);
        const waitUntil = query?.state.fetchStatus === 'idle' ? retryAt : undefined;
        if (waitUntil !== undefined && waitUntil > Date.now()) setLongTimeout(run, waitUntil);
        else run();
      });
    },
  };
}
