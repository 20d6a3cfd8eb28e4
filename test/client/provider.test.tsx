import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, render, screen } from '@testing-library/react';
import { dehydrate, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import {
  CasTokenProvider,
  STREAM_TOKEN_QUERY_KEY_PREFIX,
  streamTokenQueryKey,
  streamTokenQueryOptions,
  useStreamToken,
} from 'react-cas-token';
import { createMockFetcher, createTestToken } from 'react-cas-token/testing';
import { advance, HOUR, MINUTE, renderWithProvider, SECOND, useFakeClock } from './support';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

function TokenText() {
  const { token } = useStreamToken();
  return <p>{token ? `token:${token}` : 'no token'}</p>;
}

describe('the query client', () => {
  it('works with no react-query setup at all', async () => {
    const fetcher = createMockFetcher();
    render(
      <CasTokenProvider fetcher={fetcher}>
        <TokenText />
      </CasTokenProvider>,
    );
    await advance(0);
    expect(screen.getByText(`token:${fetcher.calls[0]?.token}`)).toBeTruthy();
  });

  it("keeps the token in the surrounding QueryClientProvider's client, under the documented key", async () => {
    const queryClient = new QueryClient();
    const fetcher = createMockFetcher();
    render(
      <QueryClientProvider client={queryClient}>
        <CasTokenProvider fetcher={fetcher} room="movie-night-42">
          <TokenText />
        </CasTokenProvider>
      </QueryClientProvider>,
    );
    await advance(0);
    const cached = queryClient.getQueryData(streamTokenQueryKey('movie-night-42'));
    expect(cached).toMatchObject({ token: fetcher.calls[0]?.token });
  });

  it('leaves the token out of a persisted cache filtered by the documented prefix', async () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(['todos'], ['watch the movie']);
    renderWithProvider({ fetcher: createMockFetcher() }, { queryClient });
    await advance(0);
    const persisted = dehydrate(queryClient, {
      shouldDehydrateQuery: (query) => query.queryKey[0] !== STREAM_TOKEN_QUERY_KEY_PREFIX,
    });
    expect(persisted.queries.map((query) => query.queryKey)).toEqual([['todos']]);
  });

  it('serves a token prefetched with streamTokenQueryOptions without asking again', async () => {
    const queryClient = new QueryClient();
    const fetcher = createMockFetcher();
    await queryClient.prefetchQuery(streamTokenQueryOptions({ fetcher, room: 'lobby' }));
    const view = renderWithProvider({ fetcher, room: 'lobby' }, { queryClient });
    await advance(0);
    expect(fetcher.calls).toHaveLength(1);
    expect(view.current.token).toBe(fetcher.calls[0]?.token);
  });

  it('renews a prefetched token that expired before the first consumer mounted', async () => {
    const queryClient = new QueryClient();
    const fetcher = createMockFetcher({ lifetimeMs: 10 * MINUTE });
    await queryClient.prefetchQuery(streamTokenQueryOptions({ fetcher }));
    vi.setSystemTime(Date.now() + HOUR);
    const view = renderWithProvider({ fetcher }, { queryClient });
    expect(view.renders.every((r) => r.token === undefined)).toBe(true);
    await advance(0);
    expect(fetcher.calls).toHaveLength(2);
    expect(view.current.token).toBe(fetcher.calls[1]?.token);
  });
});

describe('rooms', () => {
  it('passes the room to the fetcher', async () => {
    const fetcher = createMockFetcher();
    renderWithProvider({ fetcher, room: 'movie-night-42' });
    await advance(0);
    expect(fetcher.calls[0]?.room).toBe('movie-night-42');
  });

  it("never shows the old room's token in a new room", async () => {
    const fetcher = createMockFetcher({ latencyMs: SECOND });
    const view = renderWithProvider({ fetcher, room: 'a' });
    await advance(SECOND);
    const tokenA = view.current.token;
    expect(tokenA).toBe(fetcher.calls[0]?.token);
    const rendersBefore = view.renders.length;
    view.rerender({ fetcher, room: 'b' });
    const afterSwitch = view.renders.slice(rendersBefore);
    expect(afterSwitch.length).toBeGreaterThan(0);
    expect(afterSwitch.every((r) => r.token === undefined)).toBe(true);
    await advance(SECOND);
    expect(fetcher.calls.map((call) => call.room)).toEqual(['a', 'b']);
    expect(view.current.token).toBe(fetcher.calls[1]?.token);
    expect(view.renders.slice(rendersBefore).some((r) => r.token === tokenA)).toBe(false);
  });
});

describe('callbacks', () => {
  it('calls onToken once per token, however many consumers', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * SECOND });
    const onToken = vi.fn();
    renderWithProvider({ fetcher, onToken }, { consumers: 20 });
    await advance(12 * SECOND);
    expect(fetcher.calls).toHaveLength(3);
    expect(onToken.mock.calls.map(([info]) => info.token)).toEqual(fetcher.calls.map((call) => call.token));
  });

  it('calls onToken once for a token the proxy keeps confirming, not at each check (an app may rejoin its call there), and for refresh()', async () => {
    const token = createTestToken({ lifetimeMs: HOUR });
    // The proxy's answer: the room's token, due for rotation in 55 min, to be checked every 8 s.
    const fetcher = vi.fn(async () => ({ token, refreshIn: 55 * MINUTE, checkIn: 8 * SECOND, seal: 'v1.1.2.proof' }));
    const onToken = vi.fn();
    const view = renderWithProvider({ fetcher, onToken });
    await advance(60 * SECOND);

    expect(fetcher.mock.calls.length).toBeGreaterThanOrEqual(7);
    expect(onToken).toHaveBeenCalledTimes(1);
    expect(view.renders.filter((render) => render.token === token)).toHaveLength(1);

    // The app's own refresh() is answered, even with the same token.
    await act(() => view.current.refresh());
    expect(onToken).toHaveBeenCalledTimes(2);
  });

  it('uses the latest fetcher and callbacks without refetching when they change identity', async () => {
    const first = createMockFetcher({ lifetimeMs: 10 * SECOND });
    const second = createMockFetcher({ lifetimeMs: 10 * SECOND });
    const onToken = vi.fn();
    const view = renderWithProvider({ fetcher: first, onToken: () => {} });
    await advance(0);
    view.rerender({ fetcher: second, onToken });
    await advance(0);
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(0);
    await advance(5 * SECOND);
    expect(second.calls).toHaveLength(1);
    expect(onToken).toHaveBeenCalledTimes(1);
  });
});

describe('refresh()', () => {
  it('forces a new token now', async () => {
    const fetcher = createMockFetcher();
    const view = renderWithProvider({ fetcher });
    await advance(0);
    let token: string | undefined;
    await act(async () => {
      token = await view.current.refresh();
    });
    expect(fetcher.calls).toHaveLength(2);
    expect(token).toBe(fetcher.calls[1]?.token);
    expect(view.current.token).toBe(token);
  });

  it('joins a request in flight instead of starting another', async () => {
    const fetcher = createMockFetcher({ latencyMs: SECOND });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(fetcher.calls.map((call) => call.status)).toEqual(['pending']);
    const both = Promise.all([view.current.refresh(), view.current.refresh()]);
    await advance(SECOND);
    const [a, b] = await both;
    expect(fetcher.calls).toHaveLength(1);
    expect(a).toBe(fetcher.calls[0]?.token);
    expect(b).toBe(a);
    expect(view.current.isRefreshing).toBe(false);
  });
});

describe('renders', () => {
  it('re-renders a consumer that reads only the token once per new token', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * SECOND, latencyMs: 100 });
    let renders = 0;
    function TokenOnly() {
      const { token } = useStreamToken();
      renders += 1;
      return token ? null : null;
    }
    render(
      <CasTokenProvider fetcher={fetcher} queryClient={new QueryClient()}>
        <TokenOnly />
      </CasTokenProvider>,
    );
    await advance(100);
    const afterFirst = renders;
    await advance(50 * SECOND);
    const renewals = fetcher.calls.filter((call) => call.status === 'success').length - 1;
    expect(renewals).toBeGreaterThanOrEqual(9);
    expect(renders - afterFirst).toBe(renewals);
  });
});

describe('invalidateQueries', () => {
  it('renews the token at once, once, when the app invalidates its queries (a sign-in, say)', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    const first = view.current.token;

    await act(() => view.queryClient.invalidateQueries());
    await advance(0);

    expect(fetcher.calls).toHaveLength(2);
    expect(view.current.token).toBe(fetcher.calls[1]?.token);
    expect(view.current.token).not.toBe(first);
    await advance(MINUTE);
    expect(fetcher.calls).toHaveLength(2);
  });
});
