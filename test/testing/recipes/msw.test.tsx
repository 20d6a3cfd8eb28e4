import { render, screen } from '@testing-library/react';
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createProxyFetcher, useStreamToken } from 'react-cas-token';
import { createMockTokenProxy, MockCasTokenProvider, type MockTokenProxyOptions } from 'react-cas-token/testing';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** Answers /api/cas-token as the real proxy would, from a fresh mock, for this test only. */
function serveTokens(options?: MockTokenProxyOptions) {
  const proxy = createMockTokenProxy(options);
  server.use(http.get('/api/cas-token', ({ request }) => proxy(request)));
  return proxy;
}

function WatchParty() {
  const { token, error } = useStreamToken();
  if (error && !token) return <p role="alert">Cannot join: {error.code}</p>;
  return <p>{token ? 'Joined' : 'Joining…'}</p>;
}

function renderWatchParty() {
  // The app's real fetcher, through the network; retries after 100 ms, on real timers.
  render(
    <MockCasTokenProvider room="movie-night-42" createFetcher={() => createProxyFetcher('/api/cas-token')}>
      <WatchParty />
    </MockCasTokenProvider>,
  );
}

it('joins with the token the proxy hands out', async () => {
  const proxy = serveTokens();
  renderWatchParty();

  expect(await screen.findByText('Joined')).toBeTruthy();
  expect(proxy.calls).toEqual([expect.objectContaining({ room: 'movie-night-42', httpStatus: 200 })]);
});

it('gets through a network error by itself', async () => {
  const proxy = serveTokens({ failures: { 1: 'network' } });
  renderWatchParty();

  expect(await screen.findByText('Cannot join: network')).toBeTruthy();
  expect(await screen.findByText('Joined')).toBeTruthy();
  expect(proxy.calls.map((call) => call.httpStatus)).toEqual([0, 200]);
});

it('tells a signed-out user why they cannot join', async () => {
  serveTokens({ failures: (call) => (call.request.headers.has('authorization') ? undefined : 'unauthorized') });
  renderWatchParty();

  expect(await screen.findByText('Cannot join: unauthorized')).toBeTruthy();
});
