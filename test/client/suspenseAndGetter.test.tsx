import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Component, Suspense, type ReactNode } from 'react';
import { act, render, screen } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { CasTokenProvider, useStreamTokenGetter, useSuspenseStreamToken, type CasTokenError } from 'react-cas-token';
import { createMockFetcher, type MockFetcherOptions } from 'react-cas-token/testing';
import { advance, MINUTE, SECOND, useFakeClock } from './support';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

class Boundary extends Component<{ children: ReactNode }, { error: CasTokenError | null }> {
  override state = { error: null as CasTokenError | null };
  static getDerivedStateFromError(error: CasTokenError) {
    return { error };
  }
  override render() {
    return this.state.error ? <p>failed: {this.state.error.code}</p> : this.props.children;
  }
}

function Player() {
  const { token } = useSuspenseStreamToken();
  return <p>playing with {token.slice(-8)}</p>;
}

function renderSuspense(options: MockFetcherOptions) {
  const fetcher = createMockFetcher(options);
  render(
    <CasTokenProvider fetcher={fetcher} queryClient={new QueryClient()}>
      <Boundary>
        <Suspense fallback={<p>connecting</p>}>
          <Player />
        </Suspense>
      </Boundary>
    </CasTokenProvider>,
  );
  return fetcher;
}

describe('useSuspenseStreamToken', () => {
  it('suspends until the first token arrives, with one request', async () => {
    const fetcher = renderSuspense({ latencyMs: SECOND });
    expect(screen.getByText('connecting')).toBeTruthy();
    await advance(SECOND);
    expect(screen.getByText(`playing with ${fetcher.calls[0]!.token!.slice(-8)}`)).toBeTruthy();
    expect(fetcher.calls).toHaveLength(1);
  });

  it('waits out retries of network failures instead of failing', async () => {
    const fetcher = renderSuspense({ failures: { 1: 'network', 2: 'network' } });
    await advance(0);
    expect(screen.getByText('connecting')).toBeTruthy();
    await advance(MINUTE);
    expect(fetcher.calls).toHaveLength(3);
    expect(screen.getByText(/playing with/)).toBeTruthy();
  });

  it('throws a failure that retrying cannot fix to the error boundary', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const fetcher = renderSuspense({ failures: () => 'unauthorized' });
    await advance(0);
    expect(screen.getByText('failed: unauthorized')).toBeTruthy();
    await advance(10 * MINUTE);
    expect(fetcher.calls).toHaveLength(1);
  });

  it('keeps renewing the token once shown', async () => {
    const fetcher = renderSuspense({ lifetimeMs: 10 * SECOND });
    await advance(0);
    await advance(5 * SECOND);
    expect(fetcher.calls).toHaveLength(2);
    expect(screen.getByText(`playing with ${fetcher.calls[1]!.token!.slice(-8)}`)).toBeTruthy();
  });
});

describe('useStreamTokenGetter', () => {
  function setup(options: MockFetcherOptions) {
    const fetcher = createMockFetcher(options);
    let getToken!: ReturnType<typeof useStreamTokenGetter>;
    function Sdk() {
      getToken = useStreamTokenGetter();
      return null;
    }
    const view = render(
      <CasTokenProvider fetcher={fetcher} queryClient={new QueryClient()}>
        <Sdk />
      </CasTokenProvider>,
    );
    return { fetcher, get: () => getToken, view };
  }

  it('fetches once for concurrent callers, then hands out the cached token', async () => {
    const { fetcher, get } = setup({ latencyMs: SECOND });
    const first = Promise.all([get()(), get()(), get()()]);
    await advance(SECOND);
    const tokens = await first;
    expect(new Set(tokens)).toEqual(new Set([fetcher.calls[0]?.token]));
    await expect(get()()).resolves.toBe(fetcher.calls[0]?.token);
    expect(fetcher.calls).toHaveLength(1);
  });

  it('fetches a new token when the cached one would not stay valid for minValidityMs', async () => {
    const { fetcher, get } = setup({ lifetimeMs: 4 * MINUTE });
    await act(() => get()());
    await advance(2 * MINUTE);
    await expect(get()({ minValidityMs: MINUTE })).resolves.toBe(fetcher.calls[0]?.token);
    let renewed = '';
    await act(async () => {
      renewed = await get()({ minValidityMs: 3 * MINUTE });
    });
    expect(fetcher.calls).toHaveLength(2);
    expect(renewed).toBe(fetcher.calls[1]?.token);
  });

  it('fetches when the token is due for renewal, by default', async () => {
    const { fetcher, get } = setup({ lifetimeMs: 4 * MINUTE });
    await act(() => get()());
    await advance(3 * MINUTE - 1);
    await act(() => get()());
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);
    await act(() => get()());
    expect(fetcher.calls).toHaveLength(2);
  });

  it('rejects with the typed error', async () => {
    const { get } = setup({ failures: { 1: 'unauthorized' } });
    await expect(get()()).rejects.toMatchObject({ name: 'CasTokenError', code: 'unauthorized' });
  });

  it('is the same function on every render', () => {
    const { get, view } = setup({});
    const before = get();
    view.rerender(
      <CasTokenProvider fetcher={createMockFetcher()} queryClient={new QueryClient()}>
        {null}
      </CasTokenProvider>,
    );
    expect(get()).toBe(before);
  });
});

describe('a <Suspense> above the provider', () => {
  it('shows the token after one request, not a request per retry, when the provider has no client of its own to keep', async () => {
    // React drops a suspended tree that never committed, the provider's state with it: a client
    // made there would be made again at each retry, and ask again.
    const fetcher = createMockFetcher({ latencyMs: 100 });
    render(
      <Suspense fallback={<p>connecting</p>}>
        <CasTokenProvider fetcher={fetcher} room="above">
          <Player />
        </CasTokenProvider>
      </Suspense>,
    );
    for (let step = 0; step < 20; step++) await advance(100);
    expect(fetcher.calls).toHaveLength(1);
    expect(screen.getByText(/playing with/)).toBeTruthy();
  });
});
