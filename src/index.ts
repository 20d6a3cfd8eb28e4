'use client';

export { CasTokenProvider } from './CasTokenProvider.js';
export { useStreamToken } from './useStreamToken.js';
export { useSuspenseStreamToken } from './useSuspenseStreamToken.js';
export { isClientOnlyBailout } from './core/isClientOnlyBailout.js';
export { useStreamTokenGetter } from './useStreamTokenGetter.js';
export {
  streamTokenQueryOptions,
  streamTokenQueryKey,
  STREAM_TOKEN_QUERY_KEY_PREFIX,
} from './streamTokenQueryOptions.js';
export { createProxyFetcher } from './core/createProxyFetcher.js';
export { decodeStreamToken } from './core/decodeStreamToken.js';
export { CasTokenError, isCasTokenError } from './core/CasTokenError.js';

export type { CasTokenProviderProps } from './CasTokenProvider.js';
export type {
  StreamTokenState,
  StreamTokenSuccess,
  StreamTokenPending,
  StreamTokenFailure,
  RefreshOptions,
  RefreshStreamToken,
} from './useStreamToken.js';
export type { RetryDelay } from './core/retryPolicy.js';
export type { GetStreamTokenOptions } from './useStreamTokenGetter.js';
export type { StreamTokenQueryOptionsInput, StreamTokenQueryKey } from './streamTokenQueryOptions.js';
export type { ProxyFetcherOptions } from './core/createProxyFetcher.js';
export type { StreamTokenInfo, CasTokenClaims, DecodeStreamTokenOptions } from './core/decodeStreamToken.js';
export type { CasTokenErrorCode, CasTokenErrorOptions } from './core/CasTokenError.js';
export type { StreamTokenFetcher, StreamTokenFetcherContext, StreamTokenFetchResult } from './core/StreamTokenFetcher.js';
