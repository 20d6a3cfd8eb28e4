import { useCallback } from 'react';
import { useCasTokenContext } from './CasTokenContext.js';

export interface GetStreamTokenOptions {
  /**
   * How long the token must stay valid to be handed out as it is, in ms; else a new one is
   * fetched (deduplicated with a request in flight).
   * @defaultValue the token must not be due for renewal yet (`refreshLeadMs` before expiry,
   * half the lifetime for short tokens)
   */
  minValidityMs?: number;
}

/**
 * A stable function that resolves to a valid token, for code outside React's render: a video
 * SDK's token callback, a reconnect handler. It rejects with a `CasTokenError`.
 *
 * @example
 * ```tsx
 * const getToken = useStreamTokenGetter();
 * useEffect(() => {
 *   const client = createVideoClient({ tokenProvider: () => getToken({ minValidityMs: 30_000 }) });
 *   return () => client.disconnect();
 * }, [getToken]);
 * ```
 */
export function useStreamTokenGetter(): (options?: GetStreamTokenOptions) => Promise<string> {
  const { scheduler } = useCasTokenContext('useStreamTokenGetter');
  return useCallback((options?: GetStreamTokenOptions) => scheduler.getToken(options?.minValidityMs), [scheduler]);
}
