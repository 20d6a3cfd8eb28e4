import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { QueryClient } from '@tanstack/react-query';
import { CasTokenProvider, type CasTokenProviderProps } from '../CasTokenProvider.js';
import type { RetryDelay } from '../core/retryPolicy.js';
import type { StreamTokenFetcher } from '../core/StreamTokenFetcher.js';
import { createMockFetcher, lendMockOptions, type MockFetcherOptions } from './createMockFetcher.js';
import { checkMockTokenOptions } from './mockTokenSource.js';

/** How long `MockCasTokenProvider` waits before retrying a failed request, unless told otherwise. */
export const MOCK_RETRY_DELAY_MS = 100;

/** The `MockCasTokenProvider` props other than the choice of fetcher. */
export interface MockCasTokenProviderBaseProps
  extends Omit<CasTokenProviderProps, 'fetcher' | 'queryClient' | 'retryDelay'>,
    MockFetcherOptions {
  /**
   * @defaultValue a `QueryClient` of its own, made at mount, with react-query's retries off, so
   * no token or failure leaks from one test or story into the next
   */
  queryClient?: QueryClient;
  /**
   * How long to wait before retrying a failed request (ms, or `(failureCount, error) => ms`).
   * Short, so a test or story on real timers recovers at once; a proxy's `Retry-After` still
   * applies on top. `CasTokenProvider`'s own default is a backoff from 2 s.
   * @defaultValue 100
   */
  retryDelay?: RetryDelay;
}

/**
 * Props of `MockCasTokenProvider`: its base props, and at most one of `fetcher` and
 * `createFetcher`.
 *
 * What the mock options (`lifetimeMs`, `latencyMs`, `failures`, `sameTokenPerRoom`,
 * `firstTokenExpiresInMs`, `checkInMs`) apply to: the mock fetcher the provider makes, or a
 * `createMockFetcher()` you hand it, for every option that fetcher was not made with (the
 * fetcher's own options win). They are read at each request, so new props apply to the next one.
 * A fetcher that is not a mock fetcher (`createProxyFetcher` against MSW) answers by itself.
 */
export type MockCasTokenProviderProps = MockCasTokenProviderBaseProps &
  (
    | {
        /**
         * The fetcher to use, e.g. a `createMockFetcher()` the test keeps to assert on its calls.
         * @defaultValue a `createMockFetcher()` of the provider's own, made at mount
         */
        fetcher?: StreamTokenFetcher;
        createFetcher?: undefined;
      }
    | {
        fetcher?: undefined;
        /**
         * Makes the fetcher when the provider mounts, so every mount (every story visit) starts
         * with a fresh one and no call count carried over: `() => createMockFetcher({ failures: { 1: 'network' } })`,
         * or `() => createProxyFetcher('/api/cas-token')` behind MSW. Called once per mount.
         */
        createFetcher?: () => StreamTokenFetcher;
      }
  );

// useLayoutEffect warns when rendered on a server; there is nothing to update there anyway.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/**
 * A `CasTokenProvider` for tests and stories: it mints test tokens (or uses the fetcher you
 * give) and keeps them in a `QueryClient` of its own. No proxy and no CAS account needed.
 * Failed requests are retried after 100 ms (`retryDelay`), and every prop takes effect when it
 * changes (a new `failures` applies from the next request), except `createFetcher`, which is
 * called once per mount.
 *
 * @example
 * ```tsx
 * render(
 *   <MockCasTokenProvider room="movie-night-42" lifetimeMs={10_000}>
 *     <WatchParty />
 *   </MockCasTokenProvider>,
 * );
 * expect(await screen.findByText(/connected/i)).toBeInTheDocument();
 * ```
 */
export function MockCasTokenProvider({
  fetcher,
  createFetcher,
  queryClient,
  retryDelay = MOCK_RETRY_DELAY_MS,
  lifetimeMs,
  latencyMs,
  failures,
  sameTokenPerRoom,
  firstTokenExpiresInMs,
  checkInMs,
  children,
  ...providerProps
}: MockCasTokenProviderProps) {
  if (fetcher !== undefined && createFetcher !== undefined) {
    throw new RangeError('<MockCasTokenProvider> takes `fetcher` or `createFetcher`, not both.');
  }
  const mockOptions: MockFetcherOptions = { lifetimeMs, latencyMs, failures, sameTokenPerRoom, firstTokenExpiresInMs, checkInMs };
  checkMockTokenOptions('<MockCasTokenProvider>', mockOptions);
  const latest = useRef(mockOptions);
  useIsomorphicLayoutEffect(() => {
    latest.current = mockOptions;
  });
  const [own] = useState(() => ({
    fetcher: createFetcher?.() ?? createMockFetcher(),
    getOptions: () => latest.current,
  }));
  const used = fetcher ?? own.fetcher;
  // Idempotent, and needed before the first effect: a suspending consumer fetches while rendering.
  lendMockOptions(used, own.getOptions);
  const [ownClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  return (
    <CasTokenProvider fetcher={used} queryClient={queryClient ?? ownClient} retryDelay={retryDelay} {...providerProps}>
      {children}
    </CasTokenProvider>
  );
}
