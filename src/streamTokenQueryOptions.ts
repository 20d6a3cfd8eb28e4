import { queryOptions, type QueryFunctionContext } from '@tanstack/react-query';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { DEFAULT_REFRESH_LEAD_MS } from './core/refreshTiming.js';
import { CasTokenError } from './core/CasTokenError.js';
import { fetchStreamToken } from './core/fetchStreamToken.js';
import type { StreamTokenFetcher } from './core/StreamTokenFetcher.js';

/**
 * The first element of every query key this package uses. A persisted cache must leave these
 * out, or the token ends up in storage:
 * `shouldDehydrateQuery: (query) => query.queryKey[0] !== STREAM_TOKEN_QUERY_KEY_PREFIX`.
 */
export const STREAM_TOKEN_QUERY_KEY_PREFIX = 'react-cas-token';

/** The query key of a room's token: `['react-cas-token', 'stream-token', room ?? null]`. */
export function streamTokenQueryKey(room?: string) {
  return [STREAM_TOKEN_QUERY_KEY_PREFIX, 'stream-token', room ?? null] as const;
}

export type StreamTokenQueryKey = ReturnType<typeof streamTokenQueryKey>;

export interface StreamTokenQueryOptionsInput {
  fetcher: StreamTokenFetcher;
  /** The watch-party room (CAS session) the token is for. */
  room?: string;
  /** @defaultValue 60_000 */
  refreshLeadMs?: number;
}

/**
 * What a request's answer changes in the held token:
 * - the proxy confirming the token held (same token, same seal: a check) changes nothing, so no
 *   component re-renders for a check;
 * - a refresh that brings a token expiring no later than the one held cannot be renewed early
 *   again without a loop: keep it until it expires instead. Unless the proxy said when it
 *   rotates the room's token: then that time (at least a second away) is followed.
 */
function holdTokenThatIsNoNewer(previous: unknown, next: unknown): unknown {
  const held = previous as StreamTokenInfo | undefined;
  const fresh = next as StreamTokenInfo;
  if (held && fresh.seal !== undefined && fresh.token === held.token && fresh.seal === held.seal) return held;
  if (held && fresh.rotateAt === undefined && fresh.expiresAt <= held.expiresAt && fresh.refreshAt < fresh.expiresAt) {
    return { ...fresh, refreshAt: fresh.expiresAt };
  }
  return next;
}

/** The query options shared by the provider and `streamTokenQueryOptions`. */
export function buildStreamTokenQuery(
  { fetcher, room, refreshLeadMs = DEFAULT_REFRESH_LEAD_MS }: StreamTokenQueryOptionsInput,
  signalFor: (context: QueryFunctionContext<StreamTokenQueryKey>) => AbortSignal,
  heldFor: () => StreamTokenInfo | undefined = () => undefined,
) {
  return queryOptions<StreamTokenInfo, CasTokenError, StreamTokenInfo, StreamTokenQueryKey>({
    queryKey: streamTokenQueryKey(room),
    queryFn: (context) => fetchStreamToken(fetcher, { signal: signalFor(context), room, held: heldFor(), refreshLeadMs }),
    // Renewal and retries are the provider's: react-query's own would pause in background
    // tabs, hide errors while retrying, and cannot wait past setTimeout's limit.
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    refetchOnMount: false,
    networkMode: 'always',
    structuralSharing: holdTokenThatIsNoNewer,
  });
}

/**
 * A token fetched on a server would be asked of the app's own proxy without the user's session,
 * sent to the browser in the page's HTML, and timed by the server's clock: the schedule counts on
 * the clock of the tab that holds the token. So a prefetch on a server fetches nothing.
 */
function inBrowserOnly(fetcher: StreamTokenFetcher): StreamTokenFetcher {
  return (context) => {
    if (typeof window !== 'undefined') return fetcher(context);
    return Promise.reject(
      new CasTokenError(
        'invalid-config',
        "streamTokenQueryOptions does not fetch on a server (the token would miss the user's session and end up in the HTML): " +
          'prefetch in a clientLoader, or let <CasTokenProvider> fetch in the browser.',
      ),
    );
  };
}

/**
 * Query options for a room's token, to prefetch it in the browser where the app loads data (a
 * React Router `clientLoader`, a client-side router's loader) with the cache key the provider reads.
 *
 * On a server the query fetches nothing and fails with `invalid-config`: `prefetchQuery` keeps
 * that in the cache and resolves, `ensureQueryData` and `fetchQuery` reject with it.
 *
 * @example
 * ```ts
 * export async function clientLoader({ params }: Route.ClientLoaderArgs) {
 *   await queryClient.prefetchQuery(streamTokenQueryOptions({ fetcher, room: params.room }));
 *   return null;
 * }
 * ```
 */
export function streamTokenQueryOptions(input: StreamTokenQueryOptionsInput) {
  return buildStreamTokenQuery({ ...input, fetcher: inBrowserOnly(input.fetcher) }, (context) => context.signal);
}
