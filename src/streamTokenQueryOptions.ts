import { queryOptions, type QueryFunctionContext } from '@tanstack/react-query';
import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { DEFAULT_REFRESH_LEAD_MS } from './core/refreshTiming.js';
import type { CasTokenError } from './core/CasTokenError.js';
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
 * Query options for a room's token, to prefetch it where the app loads data (a route loader)
 * with the same cache key the provider reads:
 *
 * @example
 * ```ts
 * loader: () => queryClient.ensureQueryData(streamTokenQueryOptions({ fetcher, room: 'movie-night-42' }))
 * ```
 */
export function streamTokenQueryOptions(input: StreamTokenQueryOptionsInput) {
  return buildStreamTokenQuery(input, (context) => context.signal);
}
