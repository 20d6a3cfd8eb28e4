import { StrictMode } from 'react';
import { expect, it } from 'vitest';
import { CasTokenProvider, useStreamToken } from 'react-cas-token';
import { report } from '../report';
import { advance, mount } from './mount';
import { countingFetcher, idealRequests, LIFETIME_MS, REFRESH_LEAD_MS } from './tokenSource';

const LIFETIMES = 10;

function Consumer() {
  const { token } = useStreamToken();
  return <span>{token === undefined ? 'waiting' : 'live'}</span>;
}

for (const consumers of [1, 50, 500]) {
  it(`makes one request per token lifetime with ${consumers} consumers`, async () => {
    const { fetcher, requests } = countingFetcher();
    const view = await mount(
      <StrictMode>
        <CasTokenProvider fetcher={fetcher} refreshLeadMs={REFRESH_LEAD_MS}>
          {Array.from({ length: consumers }, (_, i) => (
            <Consumer key={i} />
          ))}
        </CasTokenProvider>
      </StrictMode>,
    );
    await advance(LIFETIMES * LIFETIME_MS);
    await view.unmount();

    const ideal = idealRequests(LIFETIMES);
    report({
      section: 'requests',
      label: `requests to the proxy per token lifetime, ${consumers} consumer${consumers === 1 ? '' : 's'} (StrictMode)`,
      value: (requests() / LIFETIMES).toFixed(2),
      against: `goal 1 per token: ideal ${(ideal / LIFETIMES).toFixed(2)} = ${ideal} requests in ${LIFETIMES} h, the first plus one as each token turns 59 min old; measured ${requests()}`,
      ok: requests() === ideal,
    });
    expect(requests()).toBeGreaterThan(0);
  });
}
