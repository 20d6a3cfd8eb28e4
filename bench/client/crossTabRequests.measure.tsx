import { StrictMode } from 'react';
import { QueryClient } from '@tanstack/react-query';
import { afterEach, expect, it } from 'vitest';
import { CasTokenProvider, useStreamToken } from 'react-cas-token';
import { installFakeTabs } from '../../test/support/fakeTabs';
import { report } from '../report';
import { advance, mount } from './mount';
import { countingFetcher, idealRequests, LIFETIME_MS, REFRESH_LEAD_MS } from './tokenSource';

const LIFETIMES = 10;

let fakeTabs: ReturnType<typeof installFakeTabs> | undefined;
afterEach(() => {
  fakeTabs?.uninstall();
  fakeTabs = undefined;
});

function Consumer() {
  const { token } = useStreamToken();
  return <span>{token === undefined ? 'waiting' : 'live'}</span>;
}

/**
 * Opens `tabs` tabs of one room, each a React root with its own QueryClient and provider (as
 * separate pages have), all asking one proxy; the in-memory Web Locks and BroadcastChannel of
 * test/support/fakeTabs join them as a browser joins its tabs. Returns the proxy's request count
 * over 10 token lifetimes.
 */
async function requestsWith(tabs: number, crossTab: boolean): Promise<number> {
  fakeTabs = installFakeTabs();
  const { fetcher, requests } = countingFetcher();
  const views = [];
  for (let tab = 0; tab < tabs; tab++) {
    views.push(
      await mount(
        <StrictMode>
          <CasTokenProvider fetcher={fetcher} room="lobby" queryClient={new QueryClient()} refreshLeadMs={REFRESH_LEAD_MS} crossTab={crossTab}>
            <Consumer />
          </CasTokenProvider>
        </StrictMode>,
      ),
    );
  }
  await advance(LIFETIMES * LIFETIME_MS);
  for (const view of views) await view.unmount();
  return requests();
}

for (const tabs of [1, 3, 10]) {
  it(`makes one request per token lifetime for ${tabs} tab${tabs === 1 ? '' : 's'} of a room`, async () => {
    const shared = await requestsWith(tabs, true);
    const alone = await requestsWith(tabs, false);

    const ideal = idealRequests(LIFETIMES);
    report({
      section: 'tabs',
      label: `requests to the proxy per token lifetime, ${tabs} tab${tabs === 1 ? '' : 's'} of one room (own QueryClient each, StrictMode)`,
      value: (shared / LIFETIMES).toFixed(2),
      against:
        `goal 1 per token for all tabs: ideal ${(ideal / LIFETIMES).toFixed(2)} = ${ideal} requests in ${LIFETIMES} h; measured ${shared}; ` +
        `with crossTab={false} ${(alone / LIFETIMES).toFixed(2)} (${alone})`,
      ok: shared === ideal,
    });
    expect(alone).toBe(tabs * ideal);
  });
}
