import { useState } from 'react';
import { QueryClient } from '@tanstack/react-query';
import { CasTokenProvider, type CasTokenProviderProps } from '../CasTokenProvider.js';
import type { StreamTokenFetcher } from '../core/StreamTokenFetcher.js';
import { createMockFetcher, type MockFetcherOptions } from './createMockFetcher.js';

export interface MockCasTokenProviderProps
  extends Omit<CasTokenProviderProps, 'fetcher' | 'queryClient'>,
    MockFetcherOptions {
  /**
   * The fetcher to use, e.g. a `createMockFetcher()` the test keeps to assert on its calls.
   * When given, the mock fetcher options (`lifetimeMs`, `latencyMs`, `failures`,
   * `sameTokenPerRoom`) are not used.
   * @defaultValue a `createMockFetcher` made from this component's options, once, at mount
   */
  fetcher?: StreamTokenFetcher;
  /**
   * @defaultValue a `QueryClient` of its own, made at mount, with react-query's retries off, so
   * no token or failure leaks from one test or story into the next
   */
  queryClient?: QueryClient;
}

/**
 * A `CasTokenProvider` for tests and stories: it mints test tokens (or uses the `fetcher` you
 * give) and keeps them in a `QueryClient` of its own. No proxy and no CAS account needed.
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
  queryClient,
  lifetimeMs,
  latencyMs,
  failures,
  sameTokenPerRoom,
  children,
  ...providerProps
}: MockCasTokenProviderProps) {
  const [ownFetcher] = useState(() => fetcher ?? createMockFetcher({ lifetimeMs, latencyMs, failures, sameTokenPerRoom }));
  const [ownClient] = useState(() => queryClient ?? new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  return (
    <CasTokenProvider fetcher={fetcher ?? ownFetcher} queryClient={queryClient ?? ownClient} {...providerProps}>
      {children}
    </CasTokenProvider>
  );
}
