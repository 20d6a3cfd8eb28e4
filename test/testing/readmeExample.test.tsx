// The Testing Library example of the README, as printed there: keep the two the same.
import { act, render, screen } from '@testing-library/react';
import { notifyManager } from '@tanstack/react-query';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { useStreamToken } from 'react-cas-token';
import { createMockFetcher, MockCasTokenProvider } from 'react-cas-token/testing';

function WatchParty() {
  const { token, error } = useStreamToken();
  if (error && !token) return <p role="alert">Cannot join: {error.code}</p>;
  return <p>{token ? 'Joined' : 'Joining…'}</p>;
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
  // react-query batches renders in a setTimeout(0), which fake timers delay while they fire.
  notifyManager.setScheduler(queueMicrotask);
});

afterEach(() => {
  notifyManager.setScheduler((callback) => setTimeout(callback, 0));
  vi.useRealTimers();
});

const advance = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

it('shows why it cannot join, then joins once the proxy answers again', async () => {
  const fetcher = createMockFetcher({ latencyMs: 200, failures: { 1: 'network' } });
  render(
    <MockCasTokenProvider room="movie-night-42" fetcher={fetcher}>
      <WatchParty />
    </MockCasTokenProvider>,
  );

  await advance(200);
  expect(screen.getByRole('alert').textContent).toBe('Cannot join: network');

  await advance(5_000); // the provider retries with backoff
  expect(screen.getByText('Joined')).toBeTruthy();
  expect(fetcher.calls.map((call) => [call.room, call.status])).toEqual([
    ['movie-night-42', 'error'],
    ['movie-night-42', 'success'],
  ]);
});
