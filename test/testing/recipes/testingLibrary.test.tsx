import { render, screen } from '@testing-library/react';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { useStreamToken } from 'react-cas-token';
import { createMockFetcher, MockCasTokenProvider, setupFakeTimers, type FakeClock } from 'react-cas-token/testing';

function WatchParty() {
  const { token, error } = useStreamToken();
  if (error && !token) return <p role="alert">Cannot join: {error.code}</p>;
  return <p data-token={token}>{token ? 'Joined' : 'Joining…'}</p>;
}

let clock: FakeClock;
beforeEach(() => {
  clock = setupFakeTimers(vi, { now: Date.UTC(2030, 0, 1) }); // Jest: setupFakeTimers(jest, ...)
});
afterEach(() => clock.restore());

it('shows why it cannot join, then joins once the proxy answers again', async () => {
  const fetcher = createMockFetcher({ latencyMs: 200, failures: { 1: 'network' } });
  render(
    <MockCasTokenProvider room="movie-night-42" fetcher={fetcher}>
      <WatchParty />
    </MockCasTokenProvider>,
  );

  await clock.advance(200);
  expect(screen.getByRole('alert').textContent).toBe('Cannot join: network');

  await clock.advance(100 + 200); // retried after 100 ms, answered 200 ms later
  expect(screen.getByText('Joined')).toBeTruthy();
  expect(fetcher.calls.map((call) => [call.room, call.status])).toEqual([
    ['movie-night-42', 'error'],
    ['movie-night-42', 'success'],
  ]);
});

it('renews a token that is about to expire, with no gap', async () => {
  render(
    <MockCasTokenProvider room="movie-night-42" firstTokenExpiresInMs={4_000}>
      <WatchParty />
    </MockCasTokenProvider>,
  );
  await clock.advance(0);
  const first = screen.getByText('Joined').dataset.token;

  await clock.advance(2_000); // renewed at half of the 4 s it had left

  expect(screen.getByText('Joined').dataset.token).not.toBe(first);
});
