import { useQuery } from '@tanstack/react-query';
import { CasTokenError } from './core/CasTokenError.js';
import { useCasTokenContext } from './CasTokenContext.js';
import { useStreamTokenState, type StreamTokenSuccess } from './useStreamToken.js';

/**
 * The `digest` of what a server throws in place of the component. React renders the nearest
 * `<Suspense>` fallback there and retries the component in the browser whatever is thrown; this
 * digest is the one Next.js gives its own client-only bail-out (`next/dynamic` with `ssr: false`),
 * so Next does not log it, does not fail `next build` over it, and does not report the browser's
 * "the server could not finish this Suspense boundary" (React error #419) that carries it.
 * Elsewhere it reaches the renderer's `onError` like any server error.
 */
const CLIENT_ONLY_DIGEST = 'BAILOUT_TO_CLIENT_SIDE_RENDERING';

function clientOnly(): CasTokenError {
  const error = new CasTokenError(
    'invalid-config',
    'useSuspenseStreamToken renders in the browser only: on a server React shows the nearest <Suspense> fallback in its place. Wrap the component in <Suspense>.',
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
