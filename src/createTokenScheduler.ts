import { hashKey, type Query, type QueryClient, type QueryCacheNotifyEvent } from '@tanstack/react-query';
import { isCasTokenError, type CasTokenError } from './core/CasTokenError.js';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import type { RetryDelay } from './core/retryPolicy.js';
import { MIN_RENEWAL_GAP_MS } from './core/refreshTiming.js';
import { setLongTimeout } from './core/setLongTimeout.js';
import type { StreamTokenFetcher } from './core/StreamTokenFetcher.js';
import { nextStep, recordFailure, recordWake, type FailureState } from './core/tokenSchedule.js';
import { createTabSync, type TabSync } from './createTabSync.js';
import { buildStreamTokenQuery } from './streamTokenQueryOptions.js';

/** What the provider hands over on every render: read at the moment it is needed. */
export interface LatestProps {
  fetcher: StreamTokenFetcher;
  onToken?: ((info: StreamTokenInfo) => void) | undefined;
  onError?: ((error: CasTokenError) => void) | undefined;
  retryDelay?: RetryDelay | undefined;
}

export interface TokenSchedulerOptions {
  queryClient: QueryClient;
  room: string | undefined;
  refreshLeadMs: number;
  /** Share one token with the other tabs of this room (when the browser can). */
  crossTab: boolean;
  /** The provider's current props, read when they are needed. */
  getLatest: () => LatestProps;
}

/** What the hooks read besides the query: the failures since the last token. */
export interface FailureSnapshot {
  error: CasTokenError | null;
  failureCount: number;
  retryAt: number | undefined;
}

export type TokenScheduler = ReturnType<typeof createTokenScheduler>;

// Events after which a timer may have been missed: the machine slept, or the tab was frozen.
const WINDOW_WAKE_EVENTS = ['focus', 'pageshow', 'online'] as const;
const DOCUMENT_WAKE_EVENTS = ['visibilitychange', 'resume'] as const;

const NO_FAILURE: FailureSnapshot = { error: null, failureCount: 0, retryAt: undefined };
const ignore = () => {};

/**
 * Keeps one room's token alive while any component reads it. The decisions (when to fetch, when
 * to retry, when to wake consumers) are `core/tokenSchedule`'s; this shell owns the timers and
 * listeners, reads the query's state, and aborts the request in flight when the last consumer
 * leaves. One per provider, whatever the number of consumers.
 */
export function createTokenScheduler({ queryClient, room, refreshLeadMs, crossTab, getLatest }: TokenSchedulerOptions) {
  let inflight: AbortController | undefined;
  // Typed by what it is built from: the inferred type would name react-query internals in the .d.ts.
  const options: ReturnType<typeof buildStreamTokenQuery> = {
    ...buildStreamTokenQuery(
      { fetcher: (context) => getLatest().fetcher(context), room, refreshLeadMs },
      () => {
        // Our own signal, not react-query's: react-query would cancel and forget the request the
        // moment StrictMode unmounts its consumers for an instant, and then request again.
        inflight = new AbortController();
        return inflight.signal;
      },
      () => findQuery()?.state.data,
    ),
    // Every request is the schedule's decision, the first one included (react-query would fetch
    // on mount by itself): with sibling tabs, the first token may come from one of them.
    enabled: false,
  };
  const queryHash = hashKey(options.queryKey);
  const listeners = new Set<() => void>();
  let cancelTimer: (() => void) | undefined;
  let stopListening: (() => void) | undefined;
  // The query's counters at the last look, so each success and failure is counted once.
  let dataSeen = 0;
  let errorsSeen = 0;
  let failure: FailureState | undefined;
  let snapshot = NO_FAILURE;
  // When this tab's last request started: the failure of a request older than the token held
  // (one a sibling published meanwhile) is stale.
  let fetchStartedAt = Number.POSITIVE_INFINITY;
  let tabs: TabSync | undefined;
  let settling: Promise<void> | undefined;
  // Set by the app's `invalidateQueries()`, not by react-query's own marking of a failed query.
  let invalidated = false;
  // When the proxy last said the held token is the room's (to this tab or a sibling): checks
  // count from there. Each provider checks at 75-100 % of the proxy's interval, so the
  // participants of a room spread their checks out. Drawn at first use, not here: the scheduler
  // is made while rendering, and Next.js's prerender refuses Math.random() there.
  let confirmedAt = Number.NEGATIVE_INFINITY;
  let checkFactor: number | undefined;
  // The token last handed to onToken: a check that confirms it keeps the same object (see
  // streamTokenQueryOptions) and tells the app nothing new, unless the app asked (refresh()).
  let toldToken: StreamTokenInfo | undefined;
  let appAsked = false;

  function tellToken(info: StreamTokenInfo) {
    if (info === toldToken && !appAsked) return;
    toldToken = info;
    getLatest().onToken?.(info);
  }

  const findQuery = () =>
    queryClient.getQueryCache().find<StreamTokenInfo, CasTokenError>({ queryKey: options.queryKey, exact: true });

  const notify = () => listeners.forEach((listener) => listener());

  function setFailure(next: FailureState | undefined) {
    if (next === failure) return;
    failure = next;
    snapshot = next ? { error: next.error, failureCount: next.count, retryAt: next.retryAt } : NO_FAILURE;
    notify();
  }

  /** A fetch now, or the one in flight. Never a second one at the same time. */
  function fetchToken() {
    if (findQuery()?.state.fetchStatus !== 'fetching') fetchStartedAt = Date.now();
    return queryClient.fetchQuery({ ...options, staleTime: 0 });
  }

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
    if (newError && state.status === 'error' && isCasTokenError(error) && !(state.dataUpdatedAt > fetchStartedAt)) {
      const previous = newData ? undefined : failure;
      setFailure(recordFailure(previous, error, state.errorUpdatedAt, { retryDelay: getLatest().retryDelay, held: state.data }));
    } else if (newData) {
      invalidated = false;
      confirmedAt = Math.max(confirmedAt, state.dataUpdatedAt);
      setFailure(undefined);
    }
  }

  /**
   * The held token as the schedule sees it: due for renewal at its refresh time, or sooner when
   * the proxy wants it checked (`checkIntervalMs`) or the app invalidated it.
   */
  function scheduled(now: number): StreamTokenInfo | undefined {
    const data = findQuery()?.state.data;
    if (data === undefined) return undefined;
    const checkAt =
      data.checkIntervalMs === undefined
        ? Number.POSITIVE_INFINITY
        : confirmedAt + Math.max(MIN_RENEWAL_GAP_MS, data.checkIntervalMs * (checkFactor ??= 0.75 + 0.25 * Math.random()));
    const dueAt = Math.min(data.refreshAt, checkAt, invalidated ? now : Number.POSITIVE_INFINITY);
    return dueAt === data.refreshAt ? data : { ...data, refreshAt: dueAt };
  }

  function evaluate() {
    cancelTimer?.();
    cancelTimer = undefined;
    const query = findQuery();
    if (!stopListening || !query) return;
    catchUp(query.state);
    const now = Date.now();
    const step = nextStep({
      now,
      consumers: query.getObserversCount(),
      inFlight: query.state.fetchStatus !== 'idle',
      held: scheduled(now),
      failure,
      tabs: tabs?.input(),
    });
    if (step.wakeAt !== Number.POSITIVE_INFINITY) {
      cancelTimer = setLongTimeout(() => {
        notify();
        evaluate();
      }, step.wakeAt);
    }
    // Last: acting re-enters evaluate() (through the cache or the lock), which replaces the timer.
    if (step.action === 'fetch') fetchToken().catch(ignore);
    else if (step.action !== 'none') tabs?.act(step.action);
  }

  /** Gives up the request in flight: nobody reads the token, or another tab asks instead. */
  function abortRequest() {
    const query = findQuery();
    if (!query || query.state.fetchStatus === 'idle') return;
    queryClient.cancelQueries({ queryKey: options.queryKey, exact: true }).catch(ignore);
    inflight?.abort();
  }

  function abortIfAbandoned() {
    if ((findQuery()?.getObserversCount() ?? 0) === 0) abortRequest();
  }

  function onCacheEvent(event: QueryCacheNotifyEvent) {
    if (event.query.queryHash !== queryHash) return;
    // This tab's own request settled (not a token adopted from a sibling): tell the siblings.
    let publish = false;
    if (event.type === 'updated') {
      const { action } = event;
      if (action.type === 'invalidate') invalidated = true;
      if (action.type === 'success') {
        const info = event.query.state.data as StreamTokenInfo | undefined;
        if (info && !action.manual) {
          tellToken(info);
          appAsked = false;
          publish = true;
        }
      } else if (action.type === 'error' && isCasTokenError(action.error)) {
        appAsked = false;
        getLatest().onError?.(action.error);
        publish = true;
      }
    } else if (event.type === 'observerRemoved' && event.query.getObserversCount() === 0) {
      // Wait out the same task: a consumer that comes straight back (StrictMode, a remount)
      // keeps the request.
      queueMicrotask(abortIfAbandoned);
    }
    evaluate();
    if (publish) tabs?.publish();
  }

  function onWake(event: Event) {
    if (event.type === 'visibilitychange' && document.visibilityState !== 'visible') return;
    const query = findQuery();
    if (query) catchUp(query.state);
    setFailure(recordWake(failure, Date.now()));
    notify();
    evaluate();
  }

  /** A new token, or undefined when the request failed (its error is in the state). */
  function refresh(options?: { throwOnError?: false }): Promise<string | undefined>;
  /** A new token; rejects with the `CasTokenError` when the request fails. */
  function refresh(options: { throwOnError: true }): Promise<string>;
  function refresh(options?: { throwOnError?: boolean }): Promise<string | undefined> {
    appAsked = true;
    const token = fetchToken().then((info) => info.token);
    return options?.throwOnError ? token : token.catch(() => undefined);
  }

  return {
    options,

    /** Starts the timers and listeners; returns the function that stops them. */
    start(): () => void {
      const unsubscribe = queryClient.getQueryCache().subscribe(onCacheEvent);
      const hasWindow = typeof window !== 'undefined';
      if (crossTab && hasWindow) {
        tabs = createTabSync(room, {
          refreshLeadMs,
          changed: evaluate,
          held: () => findQuery()?.state.data,
          scheduled: () => scheduled(Date.now()),
          confirmedAt: () => confirmedAt,
          confirm(at) {
            confirmedAt = Math.max(confirmedAt, at);
          },
          failure: () => failure,
          // A sibling took the lock from this tab (it looked frozen): it asks the proxy now, and
          // a participant keeps one request in flight, not one per tab.
          stolen: abortRequest,
          adoptToken(info) {
            queryClient.setQueryData(options.queryKey, info);
            tellToken(info);
          },
          adoptFailure(shared) {
            setFailure(shared);
            getLatest().onError?.(shared.error);
          },
        });
      }
      if (hasWindow) {
        WINDOW_WAKE_EVENTS.forEach((type) => window.addEventListener(type, onWake));
        DOCUMENT_WAKE_EVENTS.forEach((type) => document.addEventListener(type, onWake));
      }
      stopListening = () => {
        unsubscribe();
        tabs?.close();
        tabs = undefined;
        if (hasWindow) {
          WINDOW_WAKE_EVENTS.forEach((type) => window.removeEventListener(type, onWake));
          DOCUMENT_WAKE_EVENTS.forEach((type) => document.removeEventListener(type, onWake));
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

    /** For `useSyncExternalStore`: called when the token expires, on wake-ups and on failures. */
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** The failures since the last token; a new object only when they change. */
    getFailure: (): FailureSnapshot => snapshot,

    /** A new token now, deduplicated with a request in flight. */
    refresh,

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
      // One wait for every render that suspends on it (React may render a suspended tree twice).
      settling ??= new Promise<void>((resolve) => {
        const run = () => fetchToken().then(() => resolve(), () => resolve());
        const query = findQuery();
        if (query) catchUp(query.state);
        const idle = query?.state.fetchStatus !== 'fetching';
        // A failure with no retry planned is settled already: the boundary shows it.
        if (idle && failure && failure.retryAt === undefined) return resolve();
        const waitUntil = idle ? failure?.retryAt : undefined;
        if (waitUntil !== undefined && waitUntil > Date.now()) setLongTimeout(run, waitUntil);
        else run();
      }).finally(() => {
        settling = undefined;
      });
      return settling;
    },
  };
}
