import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render } from '@testing-library/react';
import { CasTokenError, CasTokenProvider, useStreamToken, type StreamTokenFetcher } from 'react-cas-token';
import { createMockFetcher, createTestToken } from 'react-cas-token/testing';
import { advance, HOUR, MINUTE, SECOND, renderWithProvider, useFakeClock } from './support';

beforeEach(() => useFakeClock());
afterEach(() => vi.useRealTimers());

function requestsPerMinute(startedAt: number[], from: number, minutes: number): number[] {
  return Array.from({ length: minutes }, (_, m) =>
    startedAt.filter((at) => at >= from + m * MINUTE && at < from + (m + 1) * MINUTE).length,
  );
}

describe('retried failures', () => {
  it.each(['network', 'timeout', 'http'] as const)(
    'retries %s failures without end while no token is held, every 2 to 3 s, so a proxy that is back serves the page within 3 s',
    async (code) => {
      const start = Date.now();
      const fetcher = createMockFetcher({ failures: () => code });
      renderWithProvider({ fetcher });
      await advance(30 * MINUTE);
      const perMinute = requestsPerMinute(fetcher.calls.map((call) => call.startedAt), start, 30);
      expect(perMinute[0]).toBeLessThanOrEqual(28);
      // 2.25 to 3 s apart: 20 to 27 a minute, and never more.
      expect(Math.min(...perMinute.slice(1))).toBeGreaterThanOrEqual(20);
      expect(Math.max(...perMinute.slice(1))).toBeLessThanOrEqual(27);
    },
  );

  it('spreads the waits out while no token is held: 1.5-2 s first, then 2.25-3 s, never longer', async () => {
    const fetcher = createMockFetcher({ failures: () => 'network' });
    renderWithProvider({ fetcher });
    await advance(5 * MINUTE);
    const starts = fetcher.calls.map((call) => call.startedAt);
    const waits = starts.slice(1).map((at, i) => at - starts[i]!);
    expect(waits[0]).toBeGreaterThanOrEqual(1.5 * SECOND);
    expect(waits[0]).toBeLessThanOrEqual(2 * SECOND);
    expect(Math.min(...waits.slice(1))).toBeGreaterThanOrEqual(2.25 * SECOND);
    expect(Math.max(...waits)).toBeLessThanOrEqual(3 * SECOND);
    expect(new Set(waits.slice(1)).size).toBeGreaterThan(10); // jittered, not in lockstep
  });

  it('shows a token within 3 s of the proxy coming back after minutes of failures', async () => {
    let down = true;
    const fetcher = createMockFetcher({ failures: () => (down ? 'network' : undefined) });
    const view = renderWithProvider({ fetcher });
    await advance(10 * MINUTE);
    expect(view.current.status).toBe('error');
    down = false;
    const backAt = Date.now();
    await advance(3 * SECOND);
    expect(view.current.status).toBe('success');
    expect(fetcher.calls.at(-1)!.startedAt - backAt).toBeLessThanOrEqual(3 * SECOND);
  });

  it("follows the token proxy's own Retry-After while no token is held, however long the backoff has grown", async () => {
    const storeDown = () => new CasTokenError('http', 'store down', { status: 503, retryAfterMs: 2 * SECOND, proxyCode: 'store-unavailable' });
    const fetcher = createMockFetcher({ failures: (call) => (call.number <= 20 ? storeDown() : undefined) });
    const view = renderWithProvider({ fetcher });
    await advance(2 * MINUTE);
    const starts = fetcher.calls.map((call) => call.startedAt);
    const waits = starts.slice(1).map((at, i) => at - starts[i]!);
    expect(fetcher.calls).toHaveLength(21);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(2 * SECOND);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2.5 * SECOND);
    expect(view.current.status).toBe('success');
  });

  it('retries a failed renewal more slowly while the held token lasts (up to 30 s), and at once when it expires', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * MINUTE, failures: (call) => (call.number > 1 ? 'network' : undefined) });
    const view = renderWithProvider({ fetcher });
    await advance(9 * MINUTE); // the renewal is due a minute before expiry
    const starts = () => fetcher.calls.slice(1).map((call) => call.startedAt);
    await advance(MINUTE - 1);
    const renewals = starts();
    const waits = renewals.slice(1).map((at, i) => at - renewals[i]!);
    // 2 s doubling (75-100 % each), as long as the token lasts.
    waits.slice(0, 4).forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(0.75 * 2 ** (i + 1) * SECOND);
      expect(wait).toBeLessThanOrEqual(2 ** (i + 1) * SECOND);
    });
    expect(Math.max(...waits)).toBeLessThanOrEqual(30 * SECOND);
    expect(fetcher.calls.length).toBeLessThanOrEqual(8);
    expect(view.current.token).toBeDefined();
    // Expired: no token shown, and the next try comes at once, then every 2-3 s.
    const before = fetcher.calls.length;
    await advance(1);
    expect(view.current.token).toBeUndefined();
    await advance(10 * SECOND);
    expect(fetcher.calls.length - before).toBeGreaterThanOrEqual(4);
  });

  it('shows the error in state at once, and keeps it while retrying, until a request succeeds', async () => {
    const fetcher = createMockFetcher({ failures: { 1: 'network', 2: 'network' } });
    const onError = vi.fn();
    const view = renderWithProvider({ fetcher, onError });
    await advance(0);
    expect(view.current.status).toBe('error');
    expect(view.current.error).toBeInstanceOf(CasTokenError);
    expect(view.current.error?.code).toBe('network');
    expect(onError).toHaveBeenCalledTimes(1);
    await advance(MINUTE);
    expect(fetcher.calls).toHaveLength(3);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(view.renders.filter((r) => r.error === null && r.status !== 'success').length).toBe(1); // only the first render
    expect(view.current.status).toBe('success');
    expect(view.current.error).toBeNull();
  });

  it('keeps retrying in a hidden, unfocused tab', async () => {
    vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    const fetcher = createMockFetcher({ failures: { 1: 'network', 2: 'network', 3: 'network' } });
    const view = renderWithProvider({ fetcher });
    await advance(2 * MINUTE);
    expect(fetcher.calls).toHaveLength(4);
    expect(view.current.status).toBe('success');
  });

  it('waits as long as a 429 answer asks (Retry-After)', async () => {
    const busy = new CasTokenError('http', 'Too many requests', { status: 429, retryAfterMs: 2 * MINUTE });
    const fetcher = createMockFetcher({ failures: { 1: busy } });
    renderWithProvider({ fetcher });
    await advance(2 * MINUTE - 1);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);
    expect(fetcher.calls).toHaveLength(2);
  });

  it('keeps the previous token while renewals fail, until it truly expires', async () => {
    const fetcher = createMockFetcher({ lifetimeMs: 10 * MINUTE, failures: (call) => (call.number > 1 ? 'network' : undefined) });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    const first = view.current.token;
    await advance(9 * MINUTE + 30 * SECOND);
    expect(fetcher.calls.length).toBeGreaterThan(2);
    expect(view.current.token).toBe(first);
    expect(view.current.status).toBe('success');
    expect(view.current.error?.code).toBe('network');
    await advance(30 * SECOND);
    expect(view.current.token).toBeUndefined();
    expect(view.current.status).toBe('error');
  });

  it.each([
    ['comes back online', () => window.dispatchEvent(new Event('online'))],
    ['is focused', () => window.dispatchEvent(new Event('focus'))],
    ['is resumed after a freeze', () => document.dispatchEvent(new Event('resume'))],
  ])('retries at once, not at the planned retry, when the page %s', async (_, wake) => {
    const fetcher = createMockFetcher({ failures: { 1: 'network' } });
    const view = renderWithProvider({ fetcher, retryDelay: 10 * MINUTE });
    await advance(10 * SECOND);
    expect(fetcher.calls).toHaveLength(1);
    expect(view.current.retryAt).toBe(fetcher.calls[0]!.startedAt + 10 * MINUTE);
    wake();
    await advance(0);
    expect(fetcher.calls).toHaveLength(2);
    expect(view.current.status).toBe('success');
  });

  it('reads a fetcher that throws a plain error as a network failure, and retries it', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>().mockRejectedValueOnce(new TypeError('Failed to fetch')).mockResolvedValue(createTestToken());
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.error?.code).toBe('network');
    expect(view.current.error?.message).toContain('Failed to fetch');
    await advance(2 * SECOND);
    expect(view.current.status).toBe('success');
  });
});

describe('failures that are not retried', () => {
  it.each([
    ['unauthorized', new CasTokenError('unauthorized', 'no', { status: 401 })],
    ['forbidden', new CasTokenError('forbidden', 'not this room', { status: 403 })],
    ['a 4xx', new CasTokenError('http', 'bad', { status: 400 })],
  ])('does not retry %s on its own', async (_, error) => {
    const fetcher = createMockFetcher({ failures: () => error });
    const onError = vi.fn();
    const view = renderWithProvider({ fetcher, onError });
    await advance(HOUR);
    expect(fetcher.calls).toHaveLength(1);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(view.current.status).toBe('error');
    expect(view.current.error).toBe(error);
    expect(view.current.retryAt).toBeUndefined();
  });

  it('tries a standing error once more when the page wakes up (the user may have signed in elsewhere)', async () => {
    const fetcher = createMockFetcher({ failures: { 1: 'unauthorized' } });
    const view = renderWithProvider({ fetcher });
    await advance(MINUTE);
    expect(fetcher.calls).toHaveLength(1);
    window.dispatchEvent(new Event('focus'));
    await advance(0);
    expect(fetcher.calls).toHaveLength(2);
    expect(view.current.status).toBe('success');
  });
});

describe('unusable answers: retried a few times with backoff, then the error stands', () => {
  it.each([
    ['not a JWT', 'not-a-jwt', 'invalid-token'],
    ['a JWT whose payload is not JSON', 'a.b.c', 'invalid-token'],
    ['a JWT whose exp is a string', createTestToken({ claims: { exp: 'tomorrow' } }), 'invalid-token'],
    ['a JWT whose iat is not a number', createTestToken({ claims: { iat: null } }), 'invalid-token'],
    ['a number', 42, 'invalid-response'],
    ['an empty string', '', 'invalid-response'],
    ['an object without token', { jwt: 'x' }, 'invalid-response'],
    ['an expiresIn that is not a number', { token: createTestToken(), expiresIn: '5m' }, 'invalid-response'],
    ['a token that had expired on arrival', { token: createTestToken(), expiresIn: 0 }, 'invalid-token'],
  ])('answers %s with a typed error, three tries and no request loop', async (_, answer, code) => {
    const fetcher = vi.fn(async () => answer) as unknown as StreamTokenFetcher;
    const view = renderWithProvider({ fetcher });
    await advance(HOUR);
    expect(fetcher).toHaveBeenCalledTimes(3);
    expect(view.current.error).toBeInstanceOf(CasTokenError);
    expect(view.current.error?.code).toBe(code);
    expect(view.current.failureCount).toBe(3);
    expect(view.current.retryAt).toBeUndefined();
  });

  it('recovers when the proxy sends a usable token on a retry', async () => {
    const expired = { token: createTestToken({ issuedAt: Date.now() - 2 * HOUR, lifetimeMs: HOUR }), expiresIn: -HOUR };
    const fetcher = vi.fn<StreamTokenFetcher>().mockResolvedValueOnce(expired).mockImplementation(async () => createTestToken());
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(view.current.error?.code).toBe('invalid-token');
    expect(view.current.retryAt).toBeDefined();
    await advance(2 * SECOND);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(view.current.status).toBe('success');
    expect(view.current.failureCount).toBe(0);
  });

  it('retries at once on a wake-up even after the error stood', async () => {
    const fetcher = vi.fn<StreamTokenFetcher>().mockResolvedValueOnce('x').mockResolvedValueOnce('x').mockResolvedValueOnce('x');
    fetcher.mockImplementation(async () => createTestToken());
    const view = renderWithProvider({ fetcher });
    await advance(HOUR);
    expect(fetcher).toHaveBeenCalledTimes(3);
    window.dispatchEvent(new Event('online'));
    await advance(0);
    expect(fetcher).toHaveBeenCalledTimes(4);
    expect(view.current.status).toBe('success');
  });
});

describe('refresh()', () => {
  it('tries again when called after a refusal, and resolves undefined while it still fails: no unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const fetcher = createMockFetcher({ failures: { 1: 'unauthorized', 2: 'unauthorized' } });
      const onError = vi.fn();
      const view = renderWithProvider({ fetcher, onError });
      await advance(0);
      // What an onClick does: call it and drop the promise.
      void view.current.refresh();
      await advance(0);
      expect(fetcher.calls).toHaveLength(2);
      expect(onError).toHaveBeenCalledTimes(2);
      expect(view.current.error?.code).toBe('unauthorized');
      const token = await view.current.refresh();
      expect(token).toBe(fetcher.calls[2]?.token);
      await advance(0);
      expect(view.current.status).toBe('success');
      // Node reports unhandled rejections after the microtasks of a macrotask: wait one out.
      vi.useRealTimers();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('rejects with the typed error when asked to throw', async () => {
    const fetcher = createMockFetcher({ failures: { 1: 'unauthorized', 2: 'unauthorized' } });
    const view = renderWithProvider({ fetcher });
    await advance(0);
    await expect(view.current.refresh({ throwOnError: true })).rejects.toMatchObject({ name: 'CasTokenError', code: 'unauthorized' });
    const token = await view.current.refresh({ throwOnError: true });
    expect(token).toBe(fetcher.calls[2]?.token);
  });
});

describe('misuse', () => {
  it('names the missing provider when a hook is used outside one', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    function Orphan() {
      useStreamToken();
      return null;
    }
    expect(() => render(<Orphan />)).toThrow(/useStreamToken must be used inside <CasTokenProvider>/);
  });

  it('throws a typed error for a provider without a fetcher', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const props = {} as { fetcher: StreamTokenFetcher };
    expect(() => render(<CasTokenProvider {...props} />)).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });

  it('throws a typed error for a negative refreshLeadMs', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<CasTokenProvider fetcher={createMockFetcher()} refreshLeadMs={-1} />)).toThrow(
      expect.objectContaining({ code: 'invalid-config' }),
    );
  });
});

describe('tokens with no time left', () => {
  it.each([
    ['an exp already past and no iat (no clock to correct by)', () => createTestToken({ issuedAt: Date.now() - HOUR, lifetimeMs: 30 * MINUTE, claims: { iat: undefined } })],
    ['less than a second left by expiresIn', () => ({ token: createTestToken(), expiresIn: 500 })],
  ])('refuses %s as invalid-token, tries three times with backoff, and never loops', async (_, answer) => {
    const fetcher = vi.fn(async () => answer()) as unknown as StreamTokenFetcher;
    const view = renderWithProvider({ fetcher });
    await advance(0);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(view.current.error?.code).toBe('invalid-token');
    await advance(HOUR);
    expect(fetcher).toHaveBeenCalledTimes(3);
    expect(view.current.token).toBeUndefined();
  });
});
