import type { StreamTokenFetcher } from 'react-cas-token';
import { createTestToken } from 'react-cas-token/testing';

export const LIFETIME_MS = 3_600_000;
export const REFRESH_LEAD_MS = 60_000;
/** How long the proxy takes to answer, on the fake clock: long enough to show a "refreshing" render. */
export const PROXY_LATENCY_MS = 150;

/** A fetcher that plays the app's proxy: counts requests and answers one-hour tokens after a delay. */
export function countingFetcher(): { fetcher: StreamTokenFetcher; requests(): number } {
  let requests = 0;
  const fetcher: StreamTokenFetcher = async ({ signal }) => {
    requests += 1;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, PROXY_LATENCY_MS);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return { token: createTestToken({ lifetimeMs: LIFETIME_MS }), expiresIn: LIFETIME_MS };
  };
  return { fetcher, requests: () => requests };
}

/**
 * Requests an ideal client makes over `lifetimes` token lifetimes: the first, then one each time
 * a token reaches `lifetime - lead` after it arrived (so one every 59 min 0.15 s).
 */
export function idealRequests(lifetimes: number): number {
  const interval = LIFETIME_MS - REFRESH_LEAD_MS + PROXY_LATENCY_MS;
  return 1 + Math.floor((lifetimes * LIFETIME_MS) / interval);
}
