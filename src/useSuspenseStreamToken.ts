import { useQuery } from '@tanstack/react-query';
import { CasTokenError } from './core/CasTokenError.js';
import { useCasTokenContext } from './CasTokenContext.js';
import { useStreamTokenState, type StreamTokenSuccess } from './useStreamToken.js';

/**
 * `useStreamToken` for a Suspense boundary: `token` is always a string. The component suspends
 * while there is no unexpired token (waiting out retries), and throws to the nearest error
 * boundary when the last request failed with no retry planned (`unauthorized`, a 4xx, an
 * unusable answer sent again and again). It renders on the client only: on a server it throws, so that React
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
  // No retry planned: the error stands, and is the error boundary's.
  if (state.status === 'error' && state.retryAt === undefined) throw state.error;
  throw scheduler.whenSettled();
}
