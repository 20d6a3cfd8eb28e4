import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, render } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { CasTokenProvider, decodeStreamToken, useStreamToken, type StreamTokenFetcher } from 'react-cas-token';
import { createMockFetcher, createTestToken } from 'react-cas-token/testing';
import { advance, DAY, HOUR, MINUTE, SECOND, renderWithProvider, useFakeClock } from './support';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

describe('one request however many read the token', () => {
  it.each([1, 50])('%i consumers under StrictMode make exactly one request', async (consumers) => {
    const fetcher = createMockFetcher();
    const view = renderWithProvider({ fetcher }, { consumers, strict: true });
    await advance(0);
    expect(fetcher.calls).toHaveLength(1);
    expect(fetcher.calls[0]?.aborted).toBe(false);
    expect(view.current.token).toBe(fetcher.calls[0]?.token);
  });
});

describe('renewal timing', () => {
  it('renews a one-hour token a minute before it expires, once per lifetime', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR });
    renderWithProvider({ fetcher });
    await advance(0);
    await advance(59 * MINUTE - 1);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);
    expect(fetcher.calls).toHaveLength(2);
    await advance(10 * HOUR);
    // One request per lifetime: the first, then one every 59 minutes.
    expect(fetcher.calls).toHaveLength(2 + Math.floor((10 * HOUR) / (59 * MINUTE)));
  });

  it('renews a 10-second token every 5 seconds, not in a loop', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * SECOND });
    renderWithProvider({ fetcher });
    await advance(0);
    await advance(60 * SECOND);
    expect(fetcher.calls).toHaveLength(1 + 12);
    const starts = fetcher.calls.map((call) => call.startedAt);
    expect(starts.slice(1).map((at, i) => at - starts[i]!)).toEqual(Array(12).fill(5 * SECOND));
  });

  it('honours refreshLeadMs', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR });
    renderWithProvider({ fetcher, refreshLeadMs: 10 * MINUTE });
    await advance(50 * MINUTE - 1);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);
    expect(fetcher.calls).toHaveLength(2);
  });

  it('makes one request for a 60-day token in a simulated hour (no setTimeout overflow)', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 60 * DAY });
    const view = renderWithProvider({ fetcher });
    await advance(HOUR);
    expect(fetcher.calls).toHaveLength(1);
    expect(view.current.status).toBe('success');
  });

  it('renews a 60-day token once, a minute before it expires, across timer hops', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 60 * DAY });
    renderWithProvider({ fetcher });
    await advance(60 * DAY - MINUTE - 1);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);
    expect(fetcher.calls).toHaveLength(2);
  });

  it('keeps a token without exp and never renews it on its own', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: Number.POSITIVE_INFINITY });
    const view = renderWithProvider({ fetcher });
    await advance(30 * DAY);
    expect(fetcher.calls).toHaveLength(1);
    expect(view.current.info?.expiresAt).toBe(Number.POSITIVE_INFINITY);
    expect(view.current.token).toBe(fetcher.calls[0]?.token);
  });
});

describe('a renewal that brings no newer token', () => {
  it('holds the same token until it expires instead of asking again and again', async () => {
    const token = createTestToken({ lifetimeMs: HOUR });
    const fetcher = vi.fn<StreamTokenFetcher>(async () => token);
    const view = renderWithProvider({ fetcher });
    await advance(0);
    await advance(59 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
    // Same token again: kept until it really expires, then asked for once more.
    await advance(MINUTE - 1);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(view.current.token).toBe(token);
    await advance(1);
    expect(fetcher).toHaveBeenCalledTimes(3);
  });

  it('treats a token that expires earlier than the held one the same way', async () => {
    const start = Date.now();
    const first = createTestToken({ lifetimeMs: HOUR, issuedAt: start });
    const earlier = createTestToken({ lifetimeMs: HOUR, issuedAt: start - 30 * SECOND });
    const fetcher = vi.fn<StreamTokenFetcher>().mockResolvedValueOnce(first).mockResolvedValue(earlier);
    const view = renderWithProvider({ fetcher });
    await advance(59 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(view.current.token).toBe(earlier);
    await advance(30 * SECOND - 1);
    expect(fetcher).toHaveBeenCalledTimes(2);
    await advance(1);
    expect(fetcher).toHaveBeenCalledTimes(3);
  });
});

describe('clock skew and cached tokens', () => {
  it.each([
    ['an hour ahead', HOUR],
    ['an hour behind', -HOUR],
  ])('with the client clock %s, a fresh one-hour token is kept and renewed at ~59 minutes', async (_, skew) => {
    // CAS issues on the true clock; the client's clock is off by `skew`.
    const trueStart = Date.now();
    vi.setSystemTime(trueStart + skew);
    const fetcher = vi.fn<StreamTokenFetcher>(async () =>
      createTestToken({ lifetimeMs: HOUR, issuedAt: Date.now() - skew }),
    );
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.status).toBe('success');
    await advance(58 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(view.current.token).toBeDefined();
    await advance(MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('renews a token a caching proxy issued 55 minutes ago before its real expiry (expiresIn)', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>(async () => {
      const issuedAt = Date.now() - 55 * MINUTE;
      return { token: createTestToken({ lifetimeMs: HOUR, issuedAt }), expiresIn: 5 * MINUTE };
    });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.info?.expiresAt).toBe(Date.now() + 5 * MINUTE);
    await advance(4 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('trusts expiresIn over the claims when the client clock is an hour behind', async () => {
    vi.setSystemTime(Date.now() - HOUR);
    const fetcher = vi.fn<StreamTokenFetcher>(async () => {
      const trueNow = Date.now() + HOUR;
      return { token: createTestToken({ lifetimeMs: HOUR, issuedAt: trueNow - 55 * MINUTE }), expiresIn: 5 * MINUTE };
    });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    await advance(5 * MINUTE);
    // Not kept past its real expiry: renewed at 4 minutes, and never an expired token shown.
    expect(fetcher.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(view.current.info!.expiresAt).toBeGreaterThan(Date.now());
  });

  it('decodes lifetimes on the local clock and corrects a clock that is provably wrong', () => {
    const now = Date.now();
    const fresh = createTestToken({ lifetimeMs: HOUR, issuedAt: now });
    expect(decodeStreamToken(fresh, now).expiresAt).toBe(now + HOUR);
    // Client clock an hour behind: `iat` is in its future.
    expect(decodeStreamToken(fresh, now - HOUR).expiresAt).toBe(now);
    // Client clock two hours ahead: the token looks expired on arrival.
    expect(decodeStreamToken(fresh, now + 2 * HOUR).expiresAt).toBe(now + 3 * HOUR);
    expect(decodeStreamToken(fresh, now + 2 * HOUR).issuedAt).toBe(now + 2 * HOUR);
  });
});

describe('background tabs and sleep', () => {
  function setVisibility(state: 'visible' | 'hidden') {
    vi.spyOn(document, 'visibilityState', 'get').mockReturnValue(state);
    vi.spyOn(document, 'hidden', 'get').mockReturnValue(state === 'hidden');
  }

  it('renews the token in a hidden tab', async () => {
    setVisibility('hidden');
    document.dispatchEvent(new Event('visibilitychange'));
    const fetcher = createMockFetcher({ lifetimeMs: 10 * MINUTE });
    renderWithProvider({ fetcher });
    await advance(30 * MINUTE);
    expect(fetcher.calls.length).toBeGreaterThanOrEqual(4);
  });

  it.each([
    ['visibilitychange', () => document.dispatchEvent(new Event('visibilitychange'))],
    ['focus', () => window.dispatchEvent(new Event('focus'))],
    ['pageshow', () => window.dispatchEvent(new Event('pageshow'))],
    ['online', () => window.dispatchEvent(new Event('online'))],
  ])('after sleep, %s refetches at once and the expired token reads undefined meanwhile', async (_, wake) => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR, latencyMs: 500 });
    const view = renderWithProvider({ fetcher });
    await advance(500);
    const before = view.current.token;
    expect(before).toBeDefined();
    // The machine sleeps two hours: the clock jumps, no timer runs.
    vi.setSystemTime(Date.now() + 2 * HOUR);
    setVisibility('visible');
    await act(async () => wake());
    expect(fetcher.calls).toHaveLength(2);
    expect(view.current.token).toBeUndefined();
    expect(view.current.status).toBe('pending');
    await advance(500);
    expect(view.current.token).toBe(fetcher.calls[1]?.token);
    expect(view.current.token).not.toBe(before);
  });

  it('does not refetch on a wake-up while the token is not due', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR });
    renderWithProvider({ fetcher });
    await advance(0);
    await act(async () => {
      window.dispatchEvent(new Event('focus'));
      window.dispatchEvent(new Event('online'));
      document.dispatchEvent(new Event('visibilitychange'));
    });
    expect(fetcher.calls).toHaveLength(1);
  });

  it('reads undefined from the moment the token expires while renewals fail', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * MINUTE, failures: (call) => (call.number > 1 ? 'unauthorized' : undefined) });
    const view = renderWithProvider({ fetcher });
    await advance(9 * MINUTE);
    expect(view.current.token).toBe(fetcher.calls[0]?.token);
    expect(view.current.error?.code).toBe('unauthorized');
    await advance(MINUTE - 1);
    expect(view.current.token).toBe(fetcher.calls[0]?.token);
    await advance(1);
    expect(view.current.token).toBeUndefined();
    expect(view.current.status).toBe('error');
  });
});

describe('unmounting', () => {
  it('aborts the request in flight when the last consumer unmounts', async () => {
    const fetcher = createMockFetcher({ latencyMs: 5 * SECOND });
    const view = renderWithProvider({ fetcher });
    await advance(SECOND);
    view.unmount();
    await advance(0);
    expect(fetcher.calls[0]?.aborted).toBe(true);
    expect(fetcher.calls[0]?.status).toBe('aborted');
  });

  it('keeps the request in flight when the only consumer remounts while the provider stays', async () => {
    const fetcher = createMockFetcher({ latencyMs: 5 * SECOND });
    const queryClient = new QueryClient();
    let seen: string | undefined;
    function Player() {
      seen = useStreamToken().token;
      return null;
    }
    // A new key unmounts the consumer and mounts another in the same commit (a route change).
    const page = (key: string) => (
      <CasTokenProvider fetcher={fetcher} queryClient={queryClient}>
        <Player key={key} />
      </CasTokenProvider>
    );
    const view = render(page('first'));
    await advance(SECOND);
    view.rerender(page('second'));
    await advance(5 * SECOND);

    expect(fetcher.calls).toHaveLength(1);
    expect(fetcher.calls[0]?.aborted).toBe(false);
    expect(seen).toBe(fetcher.calls[0]?.token);
  });

  it('stops renewing once nothing reads the token', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * SECOND });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    view.unmount();
    await advance(HOUR);
    expect(fetcher.calls).toHaveLength(1);
  });
});

describe("following the proxy's rotation (refreshIn)", () => {
  it('renews when the proxy says the room’s token is replaced, not at its own lead', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token: createTestToken({ lifetimeMs: HOUR }), expiresIn: HOUR, refreshIn: 30 * MINUTE }));
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.info?.rotateAt).toBe(Date.now() + 30 * MINUTE);
    await advance(30 * MINUTE - 1);
    expect(fetcher).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('counts refreshIn from when the answer arrived, so a slow request (a slow sign-in check) does not move the switch', async () => {
    // The proxy counts refreshIn as its answer leaves: whatever the request waited for is past.
    const fetcher = createMockFetcher({ latencyMs: 3 * SECOND });
    const rotating: StreamTokenFetcher = async (context) => ({ ...((await fetcher(context)) as object), refreshIn: 10 * MINUTE }) as never;
    const start = Date.now();
    renderWithProvider({ fetcher: rotating });
    await advance(3 * SECOND + 10 * MINUTE - 1);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);
    expect(fetcher.calls).toHaveLength(2);
    expect(fetcher.calls[1]!.startedAt - start).toBe(3 * SECOND + 10 * MINUTE);
  });

  it('never waits past its own lead before expiry, whatever refreshIn says', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token: createTestToken({ lifetimeMs: HOUR }), expiresIn: HOUR, refreshIn: 2 * HOUR }));
    renderWithProvider({ fetcher });
    await advance(59 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('asks again a second later when it arrived just before the rotation and got the old token', async () => {
    const old = createTestToken({ lifetimeMs: HOUR });
    const fresh = createTestToken({ lifetimeMs: HOUR, issuedAt: Date.now() + 30 * MINUTE });
    const fetcher = vi
      .fn<StreamTokenFetcher>()
      .mockResolvedValueOnce({ token: old, expiresIn: HOUR, refreshIn: 30 * MINUTE })
      .mockResolvedValueOnce({ token: old, expiresIn: 30 * MINUTE, refreshIn: 20 })
      .mockResolvedValue({ token: fresh, expiresIn: HOUR, refreshIn: 30 * MINUTE });
    const view = renderWithProvider({ fetcher });
    await advance(30 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(view.current.token).toBe(old);
    await advance(SECOND);
    expect(fetcher).toHaveBeenCalledTimes(3);
    expect(view.current.token).toBe(fresh);
  });

  it('cannot be driven into a loop by refreshIn: 0', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token: createTestToken({ lifetimeMs: HOUR }), expiresIn: HOUR, refreshIn: 0 }));
    renderWithProvider({ fetcher });
    await advance(10 * SECOND);
    expect(fetcher.mock.calls.length).toBeLessThanOrEqual(11);
  });

  it('renews a token without exp when the proxy rotates it', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token: createTestToken({ lifetimeMs: Number.POSITIVE_INFINITY }), refreshIn: HOUR }));
    const view = renderWithProvider({ fetcher });
    await advance(HOUR);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(view.current.info?.expiresAt).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('what the proxy says about time is bounded by the token itself', () => {
  it('never believes more time left than the token’s own lifetime (exp - iat)', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>(async () => ({ token: createTestToken({ lifetimeMs: HOUR }), expiresIn: 10 * 365 * DAY }));
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.info?.expiresAt).toBe(Date.now() + HOUR);
    await advance(59 * MINUTE);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('counts expiresIn from when the request was sent: time in transit is not extra life', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: HOUR, latencyMs: 8 * SECOND });
    const view = renderWithProvider({ fetcher });
    await advance(8 * SECOND);
    // The mock proxy answers expiresIn: HOUR as the request lands; the client counts it from sending.
    expect(view.current.info?.expiresAt).toBe(fetcher.calls[0]!.startedAt + HOUR);
  });
});

describe('a request that never answers', () => {
  it('still wakes consumers when the held token expires: an expired token is never shown', async () => {
    const first = createTestToken({ lifetimeMs: 10 * MINUTE });
    const fetcher = vi.fn<StreamTokenFetcher>().mockResolvedValueOnce(first).mockImplementation(() => new Promise(() => {}));
    // Renewal starts 10 s before expiry and hangs; the fetcher's own 30 s timeout is far off.
    const view = renderWithProvider({ fetcher, refreshLeadMs: 10 * SECOND });
    await advance(10 * MINUTE - 10 * SECOND);
    expect(fetcher).toHaveBeenCalledTimes(2);
    await advance(10 * SECOND - 1);
    expect(view.current.token).toBe(first);
    await advance(1);
    expect(view.current.token).toBeUndefined();
    expect(view.current.status).toBe('pending');
  });

  it('counts as a timeout after 30 s, even when the fetcher ignores its signal, and is retried', async () => {
    const fetcher = vi
      .fn<StreamTokenFetcher>()
      .mockImplementationOnce(() => new Promise(() => {}))
      .mockImplementation(async () => createTestToken());
    const view = renderWithProvider({ fetcher });
    await advance(30 * SECOND);
    expect(view.current.error?.code).toBe('timeout');
    expect(view.current.isRefreshing).toBe(false);
    await advance(2 * SECOND);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(view.current.status).toBe('success');
  });
});
