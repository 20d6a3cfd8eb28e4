/**
 * The `digest` of what `useSuspenseStreamToken` throws on a server in place of the component.
 * React renders the nearest `<Suspense>` fallback there and retries the component in the browser,
 * whatever is thrown; this digest is the one Next.js gives its own client-only bail-out
 * (`next/dynamic` with `ssr: false`), so Next does not log it, does not fail `next build` over
 * it, and does not report the browser's "the server could not finish this Suspense boundary"
 * (React error #419) that carries it. Other frameworks ask `isClientOnlyBailout`.
 */
export const CLIENT_ONLY_DIGEST = 'BAILOUT_TO_CLIENT_SIDE_RENDERING';

/**
 * True for a `<Suspense>` boundary left to the browser on purpose: the error
 * `useSuspenseStreamToken` throws on a server (React then sends the boundary's fallback and the
 * browser renders the component), and the error React reports in the browser for that boundary
 * (#419) when the server's `onError` returned its `digest`. Next.js's own client-only components
 * carry the same digest. Neither is a failure: a server's `onError` should not answer 500 or log
 * over it, nor `onRecoverableError` report it.
 *
 * @example
 * ```tsx
 * // app/entry.server.tsx (React Router), in renderToPipeableStream's options
 * onError(error) {
 *   if (isClientOnlyBailout(error)) return error.digest; // tells the browser, see below
 *   responseStatusCode = 500;
 * },
 *
 * // app/entry.client.tsx, in hydrateRoot's options
 * onRecoverableError(error) {
 *   if (!isClientOnlyBailout(error)) reportError(error);
 * },
 * ```
 */
export function isClientOnlyBailout(error: unknown): error is Error & { digest: typeof CLIENT_ONLY_DIGEST } {
  return error instanceof Error && (error as { digest?: unknown }).digest === CLIENT_ONLY_DIGEST;
}
