import { useQuery } from '@tanstack/react-query';
import { CasTokenError } from './core/CasTokenError.js';
import { isRetryable } from './core/retryPolicy.js';
import { useCasTokenContext } from './CasTokenContext.js';
import { useStreamTokenState, type StreamTokenSuccess } from './useStreamToken.js';

/**
 * `useStreamToken` for a Suspense boundary: `token` is always a string. The component suspends
 * while there is no unexpired token (waiting out retries of network failures), and throws to
 * the nearest error boundary when the last request failed for good (`unauthorized`,
 * `invalid-*`, a 4xx). It renders on the client only: on a server it throws, so that React
 * renders the boundary's fallback there and the component in the browser.
 *
 * @example
 * ```tsx
 * function VideoCall() {
 *   const { token } = useSuspenseStreamToken();
 *   return <Player token={token} />;
 * }
 *
 * <Suspense fallback={<Spinner />}><VideoCall /></Suspense>
 * ```
 */
export function useSuspenseStreamToken(): StreamTokenSuccess {
  const { queryClient, scheduler } = useCasTokenContext('useSuspenseStreamToken');
  const result = useQuery(scheduler.options, queryClient);
  const state = useStreamTokenState(result, scheduler);
  if (state.status === 'success') return state;
  if (typeof window === 'undefined') {
    throw new CasTokenError('invalid-config', 'useSuspenseStreamToken renders on the client only; the token is never fetched on a server.');
  }
  if (state.status === 'error' && !isRetryable(state.error)) throw state.error;
  throw scheduler.whenSettled();
}
