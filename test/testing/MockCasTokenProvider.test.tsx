import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { decodeStreamToken, useStreamToken } from 'react-cas-token';
import { advance, START, useFakeClock, useRealClock } from './support';
import { createMockFetcher, MockCasTokenProvider } from 'react-cas-token/testing';

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

  it('recovers after a failing call once the next one succeeds', async () => {
    const fetcher = createMockFetcher({ failures: { 1: 'network' } });
    render(
      <MockCasTokenProvider room="r" fetcher={fetcher}>
        <Player />
      </MockCasTokenProvider>,
    );
    await advance(0);
    expect(screen.getByTestId('player').textContent).toBe('error (network)');

    // The provider's own backoff retries a network failure within a few seconds.
    await advance(5_000);

    expect(screen.getByTestId('player').textContent).toBe('room r');
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
