import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { decodeStreamToken, useStreamToken, type StreamTokenFetcher } from 'react-cas-token';
import { advance, START, useFakeClock, useRealClock } from './support';
import { createMockFetcher, MockCasTokenProvider, type MockCasTokenProviderProps } from 'react-cas-token/testing';

/** What a watch-party component shows, written to the DOM so the test reads it like a user. */
function Player({ name = 'player' }: { name?: string }) {
  const { status, token, error } = useStreamToken();
  return (
    <p data-testid={name} data-token={token ?? ''}>
      {status === 'success' ? `room ${String(decodeStreamToken(token).claims.rid)}` : status}
      {error && ` (${error.code})`}
    </p>
  );
}

const tokenOf = (name = 'player') => screen.getByTestId(name).dataset.token;

beforeEach(() => {
  useFakeClock();
});

afterEach(() => {
  cleanup();
  useRealClock();
});

describe('MockCasTokenProvider', () => {
  it('gives its children a test token for the room, with no proxy and no QueryClientProvider', async () => {
    render(
      <MockCasTokenProvider room="movie-night-42">
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);

    expect(screen.getByTestId('player').textContent).toBe('room movie-night-42');
  });

  it('renews the token on the fake clock, at half of a short lifetime', async () => {
    render(
      <MockCasTokenProvider room="r" lifetimeMs={10_000}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);
    const first = tokenOf();

    await advance(4_999);
    expect(tokenOf()).toBe(first);
    await advance(1);

    expect(tokenOf()).not.toBe(first);
    expect(decodeStreamToken(tokenOf()!).issuedAt).toBe(START + 5_000);
  });

  it('stays pending for latencyMs', async () => {
    render(
      <MockCasTokenProvider room="r" latencyMs={800}>
        <Player />
      </MockCasTokenProvider>,
    );

    await advance(799);
    expect(screen.getByTestId('player').textContent).toBe('pending');
    await advance(1);
    expect(screen.getByTestId('player').textContent).toBe('room r');
  });

  it('surfaces a chosen failure as the error state', async () => {
    render(
      <MockCasTokenProvider room="r" failures={() => 'unauthorized'}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);

    expect(screen.getByTestId('player').textContent).toBe('error (unauthorized)');
  });

  it('retries a failed request after 100 ms, not the production backoff of seconds', async () => {
    const fetcher = createMockFetcher({ failures: { 1: 'network' } });
    render(
      <MockCasTokenProvider room="r" fetcher={fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);
    expect(screen.getByTestId('player').textContent).toBe('error (network)');

    await advance(99);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);

    expect(screen.getByTestId('player').textContent).toBe('room r');
    expect(fetcher.calls.map((call) => [call.status, call.startedAt])).toEqual([
      ['error', START],
      ['success', START + 100],
    ]);
  });

  it('takes another retryDelay when given one', async () => {
    const fetcher = createMockFetcher({ failures: { 1: 'network' } });
    render(
      <MockCasTokenProvider room="r" fetcher={fetcher} retryDelay={(failureCount) => failureCount * 1_000}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(999);
    expect(fetcher.calls).toHaveLength(1);
    await advance(1);

    expect(fetcher.calls.map((call) => call.status)).toEqual(['error', 'success']);
  });

  it('uses the fetcher it is given, whose calls a test can check', async () => {
    const fetcher = createMockFetcher();
    render(
      <MockCasTokenProvider room="anime-club" fetcher={fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);

    expect(fetcher.calls).toEqual([expect.objectContaining({ room: 'anime-club', startedAt: START, status: 'success' })]);
    expect(tokenOf()).toBe(fetcher.calls[0]!.token);
  });

  it('passes onToken and refreshLeadMs on to the real provider', async () => {
    const onToken = vi.fn();
    render(
      <MockCasTokenProvider room="r" lifetimeMs={3_600_000} refreshLeadMs={600_000} onToken={onToken}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);
    await advance(50 * 60_000);

    expect(onToken).toHaveBeenCalledTimes(2);
    expect(onToken.mock.calls[1]![0]).toMatchObject({ receivedAt: START + 50 * 60_000 });
  });

  it('keeps each provider in its own QueryClient, so two never share a token', async () => {
    render(
      <>
        <MockCasTokenProvider room="same">
          <Player name="a" />
        </MockCasTokenProvider>
        <MockCasTokenProvider room="same">
          <Player name="b" />
        </MockCasTokenProvider>
      </>,
    );
    await advance(0);

    expect(tokenOf('a')).toMatch(/^ey/);
    expect(tokenOf('b')).toMatch(/^ey/);
    expect(tokenOf('a')).not.toBe(tokenOf('b'));
  });

  it('aborts the request in flight when unmounted', async () => {
    const fetcher = createMockFetcher({ latencyMs: 1_000 });
    const view = render(
      <MockCasTokenProvider room="r" fetcher={fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(100);

    view.unmount();
    await advance(0);

    expect(fetcher.calls[0]).toMatchObject({ status: 'aborted', aborted: true });
  });
});

describe('MockCasTokenProvider props over time', () => {
  it('applies new failures from the next request when re-rendered with them', async () => {
    const tree = (props: Partial<MockCasTokenProviderProps>) => (
      <MockCasTokenProvider room="r" {...props}>
        <Player />
      </MockCasTokenProvider>
    );
    const view = render(tree({ failures: () => 'network' }));
    await advance(250);
    expect(screen.getByTestId('player').textContent).toBe('error (network)');

    view.rerender(tree({ failures: undefined }));
    await advance(100);

    expect(screen.getByTestId('player').textContent).toBe('room r');
  });

  it('mints with a new lifetimeMs from the next request when re-rendered with it', async () => {
    const tree = (lifetimeMs: number) => (
      <MockCasTokenProvider room="r" lifetimeMs={lifetimeMs}>
        <Player />
      </MockCasTokenProvider>
    );
    const view = render(tree(10_000));
    await advance(0);

    view.rerender(tree(60_000));
    await advance(5_000);

    const renewed = decodeStreamToken(tokenOf()!);
    expect(renewed.issuedAt).toBe(START + 5_000);
    expect(renewed.expiresAt).toBe(START + 65_000);
  });

  it("fills in a given mock fetcher's missing options from its props, the fetcher's own winning", async () => {
    const failing = createMockFetcher({ failures: { 1: 'network' } });
    const ownLifetime = createMockFetcher({ lifetimeMs: 5_000 });
    render(
      <>
        <MockCasTokenProvider room="a" lifetimeMs={20_000} fetcher={failing}>
          <Player name="a" />
        </MockCasTokenProvider>
        <MockCasTokenProvider room="b" lifetimeMs={20_000} fetcher={ownLifetime}>
          <Player name="b" />
        </MockCasTokenProvider>
      </>,
    );
    await advance(100);

    expect(failing.calls.map((call) => call.status)).toEqual(['error', 'success']);
    expect(decodeStreamToken(tokenOf('a')!).expiresAt).toBe(START + 100 + 20_000);
    expect(decodeStreamToken(tokenOf('b')!).expiresAt).toBe(START + 5_000);
  });

  it('calls createFetcher once per mount, so every mount starts afresh', async () => {
    const made: ReturnType<typeof createMockFetcher>[] = [];
    const createFetcher = () => {
      const fetcher = createMockFetcher({ failures: { 1: 'unauthorized' } });
      made.push(fetcher);
      return fetcher;
    };
    const tree = () => (
      <MockCasTokenProvider room="r" createFetcher={createFetcher}>
        <Player />
      </MockCasTokenProvider>
    );
    const first = render(tree());
    await advance(0);
    first.rerender(tree());
    await advance(0);
    expect(screen.getByTestId('player').textContent).toBe('error (unauthorized)');
    first.unmount();

    render(tree());
    await advance(0);

    expect(made).toHaveLength(2);
    expect(screen.getByTestId('player').textContent).toBe('error (unauthorized)');
  });

  it('uses what createFetcher makes, a fetcher of any kind', async () => {
    const fetcher: StreamTokenFetcher = vi.fn(async () => 'not-a-jwt');
    render(
      <MockCasTokenProvider room="r" createFetcher={() => fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);

    expect(fetcher).toHaveBeenCalledWith(expect.objectContaining({ room: 'r' }));
    expect(screen.getByTestId('player').textContent).toBe('error (invalid-token)');
  });

  it("stays pending with latencyMs: Infinity, until the client's own 30 s timeout gives up on the call", async () => {
    const fetcher = createMockFetcher();
    render(
      <MockCasTokenProvider room="r" latencyMs={Number.POSITIVE_INFINITY} fetcher={fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );

    await advance(29_999);
    expect(screen.getByTestId('player').textContent).toBe('pending');
    expect(fetcher.calls).toEqual([expect.objectContaining({ status: 'pending' })]);
    await advance(1);

    expect(screen.getByTestId('player').textContent).toBe('error (timeout)');
    expect(fetcher.calls[0]).toMatchObject({ status: 'aborted', settledAt: START + 30_000 });
  });

  it('renews a first token that has little time left at half of that time', async () => {
    render(
      <MockCasTokenProvider room="r" lifetimeMs={60_000} firstTokenExpiresInMs={4_000}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);
    const first = tokenOf();
    expect(decodeStreamToken(first!).expiresAt).toBe(START + 4_000);

    await advance(1_999);
    expect(tokenOf()).toBe(first);
    await advance(1);

    expect(decodeStreamToken(tokenOf()!).expiresAt).toBe(START + 2_000 + 60_000);
  });

  it('asks the token to be checked every checkInMs, sending it back, as the real proxy does', async () => {
    const fetcher = createMockFetcher();
    render(
      <MockCasTokenProvider room="r" sameTokenPerRoom checkInMs={8_000} fetcher={fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);
    const token = tokenOf();

    await advance(60_000);

    // 60 s at one check every 6-8 s (75-100 % of checkInMs), each sending the token held.
    const checks = fetcher.calls.slice(1);
    expect(checks.length).toBeGreaterThanOrEqual(7);
    expect(checks.every((call) => call.held === token && call.token === token)).toBe(true);
    expect(tokenOf()).toBe(token);
  });

  it('refuses bad mock props and a fetcher with createFetcher, with a RangeError naming them', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<MockCasTokenProvider latencyMs={-5} />)).toThrow(/<MockCasTokenProvider>: latencyMs must be/);
    expect(() => render(<MockCasTokenProvider lifetimeMs={10_000} firstTokenExpiresInMs={0} />)).toThrow(RangeError);
    expect(() => render(<MockCasTokenProvider checkInMs={500} />)).toThrow(/<MockCasTokenProvider>: checkInMs must be/);
    const both = { fetcher: createMockFetcher(), createFetcher: () => createMockFetcher() } as unknown as MockCasTokenProviderProps;
    expect(() => render(<MockCasTokenProvider {...both} />)).toThrow(/`fetcher` or `createFetcher`, not both/);
  });
});
