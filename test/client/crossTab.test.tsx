import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { CasTokenProvider, useStreamToken, type StreamTokenFetcher, type StreamTokenState } from 'react-cas-token';
import { createMockFetcher, createTestToken, type MockFetcher } from 'react-cas-token/testing';
import { SIBLING_REPLY_MS } from '../../src/createTabSync';
import { installFakeTabs, postedMessages } from '../support/fakeTabs';
import { advance, HOUR, MINUTE, SECOND, useFakeClock } from './support';

let tabs: ReturnType<typeof installFakeTabs>;

beforeEach(() => {
  useFakeClock();
  tabs = installFakeTabs();
});
afterEach(() => {
  tabs.uninstall();
  vi.useRealTimers();
});

interface Tab {
  readonly state: StreamTokenState;
  /** How many requests this tab made to the proxy. */
  readonly requests: number;
  close(): void;
  /** From now on this tab's requests never answer (a frozen tab holding the lock). */
  freeze(): void;
}

/**
 * Opens a "tab": a provider with a QueryClient of its own, as another page would have. Every
 * tab asks the same mock proxy, so `proxy.calls` counts the requests of all of them.
 */
function openTab(proxy: MockFetcher, { room = 'lobby', crossTab }: { room?: string; crossTab?: boolean } = {}): Tab {
  let latest: StreamTokenState | undefined;
  let requests = 0;
  let frozen = false;
  const fetcher: StreamTokenFetcher = (context) => {
    requests += 1;
    return frozen ? new Promise(() => {}) : proxy(context);
  };
  function Consumer() {
    latest = useStreamToken();
    return null;
  }
  const view = render(
    <CasTokenProvider fetcher={fetcher} room={room} queryClient={new QueryClient()} {...(crossTab === undefined ? {} : { crossTab })}>
      <Consumer />
    </CasTokenProvider>,
  );
  return {
    get state() {
      if (!latest) throw new Error('not rendered');
      return latest;
    },
    get requests() {
      return requests;
    },
    close: () => view.unmount(),
    freeze: () => {
      frozen = true;
    },
  };
}

const tokensOf = (open: Tab[]) => open.map((tab) => tab.state.token);

describe('tabs of one room share one token', () => {
  it('makes one request for three tabs opened together, and all three show its token', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    await advance(SECOND);

    expect(proxy.calls).toHaveLength(1);
    expect(tokensOf(open)).toEqual(Array(3).fill(proxy.calls[0]!.token));
  });

  it('makes one request per token lifetime for all tabs, and they agree at every sample', async () => {
    const proxy = createMockFetcher({ lifetimeMs: 10 * MINUTE });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    await advance(SECOND);
    const disagreements: number[] = [];
    for (let second = 1; second <= 50 * 60; second++) {
      await advance(SECOND);
      if (new Set(tokensOf(open)).size !== 1 || open.some((tab) => tab.state.token === undefined)) disagreements.push(second);
    }

    // Renewed at 9 minutes of each 10: 1 + floor(50 min / 9 min) requests in 50 minutes.
    expect(proxy.calls).toHaveLength(1 + Math.floor((50 * MINUTE) / (9 * MINUTE)));
    expect(disagreements).toEqual([]);
  });

  it('gives a tab opened later the token its siblings hold, without asking the proxy', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const first = openTab(proxy);
    await advance(10 * MINUTE);

    const late = openTab(proxy);
    await advance(SECOND);

    expect(proxy.calls).toHaveLength(1);
    expect(late.requests).toBe(0);
    expect(late.state.token).toBe(first.state.token);
    expect(late.state.info?.expiresAt).toBe(first.state.info?.expiresAt);
  });

  it('lets two tabs racing for the renewal make one request', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR, latencyMs: 300 });
    const a = openTab(proxy);
    const b = openTab(proxy);
    await advance(SECOND);
    expect(proxy.calls).toHaveLength(1);

    // Both tabs hold the same token, so both are due at the same moment.
    await advance(59 * MINUTE);
    await advance(SECOND);

    expect(proxy.calls).toHaveLength(2);
    expect(a.state.token).toBe(proxy.calls[1]!.token);
    expect(b.state.token).toBe(proxy.calls[1]!.token);
  });

  it('leaves another room alone', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const lobby = [openTab(proxy), openTab(proxy)];
    const other = openTab(proxy, { room: 'anime-club' });
    await advance(SECOND);

    expect(proxy.calls.map((call) => call.room).sort()).toEqual(['anime-club', 'lobby']);
    expect(other.state.token).not.toBe(lobby[0]!.state.token);
    expect(other.state.info?.claims.rid).toBe('anime-club');
  });
});

describe('when the proxy has not rotated yet', () => {
  /**
   * A proxy like react-cas-token/server: one token per room, handed out until half the time it
   * had left when CAS answered; a new one costs a CAS call of `casMs`. A tab renewing at half
   * the time its answer had left arrives `casMs / 2` early and is handed the token it holds.
   */
  function rotatingProxy(lifetimeMs: number, casMs: number) {
    let current: { token: string; expiresAt: number; rotatesAt: number } | undefined;
    let calls = 0;
    const fetcher: StreamTokenFetcher = async () => {
      calls += 1;
      if (!current || Date.now() >= current.rotatesAt) {
        await new Promise((resolve) => setTimeout(resolve, casMs));
        const now = Date.now();
        current = { token: createTestToken({ lifetimeMs, issuedAt: now }), expiresAt: now + lifetimeMs, rotatesAt: now + lifetimeMs / 2 };
      } else {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return { token: current.token, expiresIn: current.expiresAt - Date.now() };
    };
    return { fetcher, calls: () => calls };
  }

  function openTabs(count: number, fetcher: StreamTokenFetcher) {
    const seen: (string | undefined)[][] = [];
    for (let tab = 0; tab < count; tab++) {
      function Consumer() {
        (seen[tab] ??= []).push(useStreamToken().token);
        return null;
      }
      render(
        <CasTokenProvider fetcher={fetcher} room="lobby" queryClient={new QueryClient()}>
          <Consumer />
        </CasTokenProvider>,
      );
    }
    return seen;
  }

  it('asks no more often with three tabs than with one, when a renewal is answered with the held token', async () => {
    const alone = rotatingProxy(MINUTE, 200);
    openTabs(1, alone.fetcher);
    await advance(10 * MINUTE);
    cleanup();
    const shared = rotatingProxy(MINUTE, 200);
    openTabs(3, shared.fetcher);
    await advance(10 * MINUTE);

    // One tab: each renewal is asked twice (the held token, then the new one a quarter-life on).
    // 27 and 27; before siblings took the schedule of a tab handed the held token, each tab asked
    // for it in turn: 27 and 53.
    expect(shared.calls()).toBe(alone.calls());
  });
});

describe('when the fetching tab goes away', () => {
  it('hands over to another tab when the fetching tab closes mid-request, with no expired token shown', async () => {
    const proxy = createMockFetcher({ lifetimeMs: MINUTE, latencyMs: 2 * SECOND });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    await advance(2 * SECOND);
    const fetching = open.find((tab) => tab.requests === 1)!;
    const others = open.filter((tab) => tab !== fetching);

    // Renewal at half-life (30 s); close the fetching tab while its request is in flight.
    await advance(30 * SECOND);
    expect(fetching.requests + others.reduce((n, tab) => n + tab.requests, 0)).toBe(2);
    const renewer = open.find((tab) => tab.requests === 2) ?? fetching;
    renewer.close();
    const survivors = open.filter((tab) => tab !== renewer);
    const expired: number[] = [];
    for (let step = 0; step < 60; step++) {
      await advance(500);
      for (const tab of survivors) if (tab.state.info && tab.state.info.expiresAt <= Date.now()) expired.push(step);
      if (survivors.some((tab) => tab.state.token === undefined)) expired.push(step);
    }

    expect(expired).toEqual([]);
    expect(new Set(tokensOf(survivors)).size).toBe(1);
    expect(survivors.reduce((n, tab) => n + tab.requests, 0)).toBeGreaterThanOrEqual(1);
  });

  it('takes over from a tab that froze holding the lock, before the token expires', async () => {
    const proxy = createMockFetcher({ lifetimeMs: MINUTE });
    const frozen = openTab(proxy);
    await advance(SECOND);
    const survivor = openTab(proxy);
    await advance(SECOND);
    expect(survivor.requests).toBe(0);
    const { token, info } = frozen.state;
    frozen.freeze();

    // Both renew at 30 s; the first tab takes the lock and its request never answers. The other
    // takes the lock from it halfway to expiry (45 s) and renews.
    await advance(50 * SECOND);

    expect(frozen.requests).toBe(2);
    expect(survivor.requests).toBe(1);
    expect(Date.now()).toBeLessThan(info!.expiresAt);
    expect(survivor.state.token).toBe(proxy.calls[1]!.token);
    expect(survivor.state.token).not.toBe(token);
    expect(frozen.state.token).toBe(survivor.state.token);
    expect(tabs.locks.grants.filter((grant) => grant.stolen && grant.name.endsWith('lobby'))).toHaveLength(1);

    // The frozen request times out later: that stale failure changes nothing for anyone.
    await advance(20 * SECOND);
    expect(survivor.state.error).toBeNull();
    expect(frozen.state.error).toBeNull();
    expect(survivor.requests + frozen.requests).toBe(3);
  });
});

describe('checks', () => {
  it('makes one check for all the tabs of a room, not one per tab', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR, sameTokenPerRoom: true, checkInMs: 8 * SECOND });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    await advance(SECOND);
    const token = open[0]!.state.token;

    await advance(MINUTE);

    // One tab checks every 6-8 s; the others hear of it and wait for the next one.
    expect(proxy.calls.length - 1).toBeGreaterThanOrEqual(7);
    expect(proxy.calls.length - 1).toBeLessThanOrEqual(10);
    expect(tokensOf(open)).toEqual([token, token, token]);
  });
});

describe('while the proxy hangs', () => {
  it('keeps one request in flight for all the tabs: a tab whose lock is taken gives its request up', async () => {
    const proxy = createMockFetcher({ lifetimeMs: MINUTE });
    let hanging = false;
    let inFlight = 0;
    let mostInFlight = 0;
    const hangable: MockFetcher = Object.assign((context: Parameters<MockFetcher>[0]) => {
      if (!hanging) return proxy(context);
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return new Promise<never>((_, reject) => {
        context.signal.addEventListener('abort', () => {
          inFlight -= 1;
          reject(context.signal.reason);
        });
      });
    }, proxy);
    const open = [openTab(hangable), openTab(hangable), openTab(hangable)];
    await advance(SECOND);
    expect(proxy.calls).toHaveLength(1);

    // Every renewal hangs (a proxy instance that died holding the room's lock, say): the tabs
    // take the lock from one another as the token nears expiry, and each gives its request up.
    hanging = true;
    for (let step = 0; step < 500; step++) await advance(100);

    const requests = open.reduce((n, tab) => n + tab.requests, 0);
    expect(requests).toBeGreaterThanOrEqual(3); // the first, and renewals that took the lock over
    expect(mostInFlight).toBe(1);
    // A tab whose lock was taken waits out a whole request before taking it back: the taker is
    // alive. Otherwise two tabs take it from each other every second, each restarting the request.
    const steals = tabs.locks.grants.filter((grant) => grant.stolen && grant.name.endsWith('lobby'));
    console.info(`steals: ${steals.length}, requests: ${requests}`);
    expect(steals.length).toBeLessThanOrEqual(4);
  });
});

describe('failures are mirrored', () => {
  it('shows the fetching tab’s failure in every tab, and the recovery too, with one request per retry', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR, failures: { 1: 'network', 2: 'network' } });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    await advance(100);

    expect(proxy.calls).toHaveLength(1);
    expect(open.map((tab) => tab.state.error?.code)).toEqual(['network', 'network', 'network']);
    expect(new Set(open.map((tab) => tab.state.retryAt)).size).toBe(1);

    await advance(10 * SECOND);

    expect(proxy.calls).toHaveLength(3);
    expect(open.map((tab) => tab.state.status)).toEqual(['success', 'success', 'success']);
    expect(new Set(tokensOf(open)).size).toBe(1);
  });

  it('shares a failed renewal of the token the tabs hold, before and after it expires: one request per retry, not one per tab', async () => {
    const proxy = createMockFetcher({ lifetimeMs: MINUTE });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    await advance(SECOND);
    expect(proxy.calls).toHaveLength(1);

    // Every renewal fails, from half-life (30 s) to well past expiry (60 s).
    proxy.failNext('network', 1_000);
    await advance(90 * SECOND);
    const failed = proxy.calls.slice(1);
    const gaps = failed.slice(1).map((call, i) => call.startedAt - failed[i]!.startedAt);

    // Before, a sibling's message with the token they all hold counted as a confirmation and its
    // failure went unread: each tab asked the proxy in turn, three requests per retry.
    expect(failed.length).toBeGreaterThanOrEqual(5);
    expect(gaps.filter((gap) => gap < SECOND)).toEqual([]);
    expect(open.map((tab) => tab.state.error?.code)).toEqual(['network', 'network', 'network']);
  });

  it('tells its siblings of its own failure, so none takes the lock to ask around again: one question per request', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR, failures: { 1: 'network', 2: 'network' } });
    const open = [openTab(proxy), openTab(proxy), openTab(proxy)];
    const questions = () => postedMessages.filter((message) => (message.data as { hello?: boolean }).hello === true).length;
    const lockTaken = () => tabs.locks.grants.filter((grant) => grant.name === 'react-cas-token:v1:room:lobby').length;
    await advance(100);

    expect(proxy.calls).toHaveLength(1);
    expect(open.map((tab) => tab.state.error?.code)).toEqual(['network', 'network', 'network']);
    expect(questions()).toBe(1);
    // The fetching tab, and the next one, handed the lock as the failure reached it: it lets go
    // at once, asking nobody; the third never takes it.
    expect(lockTaken()).toBe(2);

    await advance(10 * SECOND);
    expect(proxy.calls).toHaveLength(3);
    expect(open.map((tab) => tab.state.status)).toEqual(['success', 'success', 'success']);
    expect(questions()).toBe(3);
    expect(lockTaken()).toBe(6);
  });
});

describe('what is shared, and where it cannot be', () => {
  it('sends tokens over the channel only, named with the package prefix and the room, never into storage', async () => {
    const setItem = vi.spyOn(Storage.prototype, 'setItem');
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    openTab(proxy);
    openTab(proxy);
    await advance(SECOND);

    expect(setItem).not.toHaveBeenCalled();
    expect(postedMessages.length).toBeGreaterThan(0);
    expect(new Set(postedMessages.map((message) => message.name))).toEqual(new Set(['react-cas-token:v1:room:lobby']));
  });

  it('ignores malformed messages on the channel', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const tab = openTab(proxy);
    await advance(SECOND);
    const intruder = new BroadcastChannel('react-cas-token:v1:room:lobby');
    act(() => {
      intruder.postMessage({ token: { token: 42 } });
      intruder.postMessage({ token: { token: 'not-a-jwt', expiresAt: Date.now() + HOUR, receivedAt: Date.now() } });
      intruder.postMessage({ failure: { error: { code: 'unauthorized', message: 'x' }, count: '1' } });
      intruder.postMessage('hello');
      intruder.postMessage(null);
    });
    await advance(SECOND);
    intruder.close();

    expect(tab.state.token).toBe(proxy.calls[0]!.token);
    expect(tab.state.error).toBeNull();
  });

  it('works per tab with crossTab={false}', async () => {
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const open = [openTab(proxy, { crossTab: false }), openTab(proxy, { crossTab: false })];
    await advance(SECOND);

    expect(proxy.calls).toHaveLength(2);
    expect(open[0]!.state.token).not.toBe(open[1]!.state.token);
  });

  it('waits no longer than SIBLING_REPLY_MS for its siblings, even when the browser never answers how many there are', async () => {
    tabs.locks.query = () => new Promise(() => {});
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const open = [openTab(proxy), openTab(proxy)];
    await advance(SIBLING_REPLY_MS + 100);

    expect(proxy.calls).toHaveLength(1);
    expect(tokensOf(open)).toEqual([proxy.calls[0]!.token, proxy.calls[0]!.token]);
  });

  it('falls back to per-tab where the browser refuses its locks (a sandboxed iframe: an opaque origin)', async () => {
    const refuse = () => Promise.reject(new DOMException('The request was denied.', 'SecurityError'));
    Object.defineProperty(navigator, 'locks', { value: { request: refuse, query: refuse }, configurable: true });
    const proxy = createMockFetcher({ lifetimeMs: MINUTE });
    const open = [openTab(proxy), openTab(proxy)];
    await advance(SECOND);

    expect(proxy.calls).toHaveLength(2);
    expect(open.every((tab) => tab.state.status === 'success')).toBe(true);

    // And it keeps renewing: each tab once per half-life, not a request loop.
    await advance(2 * MINUTE);
    expect(proxy.calls).toHaveLength(2 + 2 * 4);
  });

  it('falls back to per-tab quietly where Web Locks are missing', async () => {
    tabs.uninstall();
    const error = vi.spyOn(console, 'error');
    const proxy = createMockFetcher({ lifetimeMs: HOUR });
    const open = [openTab(proxy), openTab(proxy)];
    await advance(SECOND);

    expect(proxy.calls).toHaveLength(2);
    expect(open.every((tab) => tab.state.status === 'success')).toBe(true);
    expect(error).not.toHaveBeenCalled();
  });
});

