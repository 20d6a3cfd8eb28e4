import { useQuery } from '@tanstack/react-query';
import { CasTokenError } from './core/CasTokenError.js';
import { CLIENT_ONLY_DIGEST } from './core/isClientOnlyBailout.js';
import { useCasTokenContext } from './CasTokenContext.js';
import { useStreamTokenState, type StreamTokenSuccess } from './useStreamToken.js';

function clientOnly(): CasTokenError {
  const error = new CasTokenError(
    'invalid-config',
    'useSuspenseStreamToken renders in the browser only: on a server it throws this so that the nearest <Suspense> shows its ' +
      "fallback. Inside a <Suspense> that is expected: your server's onError can pass it over (isClientOnlyBailout). Outside " +
      'one it fails the render: wrap the component in <Suspense>.',
  );
  // `reason` names the hook in Next's message when no <Suspense> is around it.
  return Object.assign(error, { digest: CLIENT_ONLY_DIGEST, reason: 'useSuspenseStreamToken' });
}

/**
 * `useStreamToken` for a Suspense boundary: `token` is always a string. The component suspends
 * while there is no unexpired token (waiting out retries), and throws to the nearest error
 * boundary when the last request failed with no retry planned (`unauthorized`, `forbidden`, a
 * 4xx, an unusable answer sent again and again): an `error.tsx` in Next.js.
 *
 * It renders in the browser only: on a server (server rendering, `next build`) the nearest
 * `<Suspense>` shows its fallback, quietly in Next.js, and the browser renders the component.
 * Elsewhere the server's `onError` hears of it: `isClientOnlyBailout(error)` tells it apart.
 *
 * @example
 * ```tsx
 * 'use client';
 *
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
  if (typeof window === 'undefined') throw clientOnly();
  // No retry planned: the error stands, and is the error boundary's.
  if (state.status === 'error' && state.retryAt === undefined) throw state.error;
  throw scheduler.whenSettled();
}
