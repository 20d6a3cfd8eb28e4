import { useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { QueryClient, QueryClientContext } from '@tanstack/react-query';
import { CasTokenError } from './core/CasTokenError.js';
import { isWellFormed } from './core/isWellFormed.js';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { DEFAULT_REFRESH_LEAD_MS } from './core/refreshTiming.js';
import type { RetryDelay } from './core/retryPolicy.js';
import type { StreamTokenFetcher } from './core/StreamTokenFetcher.js';
import { CasTokenContext } from './CasTokenContext.js';
import { createTokenScheduler, type LatestProps } from './createTokenScheduler.js';

export interface CasTokenProviderProps {
  /** Asks the app's own backend proxy for a token, e.g. `createProxyFetcher('/api/cas-token')`. */
  fetcher: StreamTokenFetcher;
  /**
   * The watch-party room (CAS session) the token is for. It is part of the cache key and is
   * passed to the fetcher: a new room starts without a token, never with the old room's.
   */
  room?: string;
  /**
   * The react-query client to keep the token in.
   * @defaultValue the surrounding `QueryClientProvider`'s client, else one kept for this
   * `fetcher` (providers with the same fetcher share it, so a `<Suspense>` above the provider
   * does not lose the token while it waits)
   */
  queryClient?: QueryClient;
  /**
   * How long before expiry to ask for a new token. A short-lived token is renewed at half of
   * the time it had left on arrival at the earliest, however large this is.
   * @defaultValue 60_000
   */
  refreshLeadMs?: number;
  /**
   * Called with each new token: once per token, not for each consumer, nor again when a check
   * finds it still the room's; also with what `refresh()` brings back, the same token included.
   */
  onToken?: (info: StreamTokenInfo) => void;
  /** Called with each failed request, retried or not. */
  onError?: (error: CasTokenError) => void;
  /**
   * How long to wait before retrying a failed request: a number of ms, or
   * `(failureCount, error) => ms`, as react-query's option of the same name. A `Retry-After` from
   * the proxy is always honoured on top (up to 10 minutes).
   * @defaultValue 2 s doubling to 30 s, with 75-100 % jitter; 2 min doubling to 15 min when the
   * proxy says CAS refused its credentials (`error.proxyCode === 'cas-unauthorized'`)
   */
  retryDelay?: RetryDelay;
  /**
   * Share one token between the tabs of this origin and room: one tab at a time (the holder of a
   * Web Lock) asks the proxy and publishes the token on a `BroadcastChannel`; the others adopt
   * it, mirror its failures, and take over if it closes or freezes. Tokens never touch
   * `localStorage`. Without Web Locks or BroadcastChannel each tab works on its own.
   * @defaultValue true
   */
  crossTab?: boolean;
  children?: ReactNode;
}

/**
 * The clients of providers given none, by fetcher. React drops the state of a tree that suspends
 * before it ever commits (a `<Suspense>` above the provider): a client made in state would be made
 * anew at each retry, empty, and ask again, without end. A fetcher is made once (at module scope),
 * so providers with the same fetcher share a client; a test that makes its own fetcher gets its
 * own. Browser only: on a server each render makes its own, and nothing is fetched there.
 */
const clientsByFetcher = new WeakMap<StreamTokenFetcher, QueryClient>();

function ownClientFor(fetcher: StreamTokenFetcher): QueryClient {
  if (typeof window === 'undefined') return new QueryClient();
  let client = clientsByFetcher.get(fetcher);
  if (client === undefined) clientsByFetcher.set(fetcher, (client = new QueryClient()));
  return client;
}

// useLayoutEffect warns when rendered on a server; there is nothing to update there anyway.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/**
 * Gets, caches and renews the CAS token of one room for every component below it.
 *
 * @example
 * ```tsx
 * const fetcher = createProxyFetcher('/api/cas-token');
 *
 * <CasTokenProvider fetcher={fetcher} room="movie-night-42">
 *   <WatchParty />
 * </CasTokenProvider>
 * ```
 */
export function CasTokenProvider({
  fetcher,
  room,
  queryClient: givenClient,
  refreshLeadMs = DEFAULT_REFRESH_LEAD_MS,
  onToken,
  onError,
  retryDelay,
  crossTab = true,
  children,
}: CasTokenProviderProps) {
  if (typeof fetcher !== 'function') {
    throw new CasTokenError('invalid-config', '<CasTokenProvider> needs a `fetcher`, e.g. createProxyFetcher("/api/cas-token").');
  }
  if (retryDelay !== undefined && typeof retryDelay !== 'function' && !(retryDelay >= 0 && Number.isFinite(retryDelay))) {
    throw new CasTokenError('invalid-config', `<CasTokenProvider> retryDelay must be a number of ms >= 0 or a function, not ${String(retryDelay)}.`);
  }
  if (room !== undefined && (typeof room !== 'string' || !isWellFormed(room))) {
    throw new CasTokenError('invalid-config', '<CasTokenProvider> room must be a string of well-formed Unicode (no lone surrogate: it has no bytes to send).');
  }
  if (!(refreshLeadMs >= 0) || !Number.isFinite(refreshLeadMs)) {
    throw new CasTokenError('invalid-config', `<CasTokenProvider> refreshLeadMs must be a number of ms >= 0, not ${refreshLeadMs}.`);
  }
  const surroundingClient = useContext(QueryClientContext);
  // Cheap to make (no timers until used), and there whichever client the props name later.
  const [ownClient] = useState(() => ownClientFor(fetcher));
  const queryClient = givenClient ?? surroundingClient ?? ownClient;

  // Callbacks and the fetcher change identity on every render of most apps: read them when
  // needed instead of restarting anything.
  const latest = useRef<LatestProps>({ fetcher, onToken, onError, retryDelay });
  useIsomorphicLayoutEffect(() => {
    latest.current = { fetcher, onToken, onError, retryDelay };
  });

  const scheduler = useMemo(
    // eslint-disable-next-line react-hooks/refs -- read when a request starts or a token arrives, never to render
    () => createTokenScheduler({ queryClient, room, refreshLeadMs, crossTab, getLatest: () => latest.current }),
    [queryClient, room, refreshLeadMs, crossTab],
  );
  useEffect(() => scheduler.start(), [scheduler]);

  const value = useMemo(() => ({ queryClient, scheduler }), [queryClient, scheduler]);
  return <CasTokenContext.Provider value={value}>{children}</CasTokenContext.Provider>;
}
