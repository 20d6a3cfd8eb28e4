import { describe, expect, it } from 'vitest';
import { DEFAULT_PROXY_TIMEOUT_MS } from '../../src/core/createProxyFetcher';
import { FETCHER_TIMEOUT_MS } from '../../src/core/fetchStreamToken';
import { DEFAULT_CAS_TIMEOUT_MS } from '../../src/server/fetchCasToken';

describe('the timeouts of the three layers', () => {
  it("let the proxy's 504 reach the client, and the proxy fetcher's timeout come before the provider's cap", () => {
    expect(DEFAULT_CAS_TIMEOUT_MS).toBeLessThan(DEFAULT_PROXY_TIMEOUT_MS);
    expect(DEFAULT_PROXY_TIMEOUT_MS).toBeLessThan(FETCHER_TIMEOUT_MS);
  });
});
