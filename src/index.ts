'use client';

export { CasTokenProvider } from './CasTokenProvider';
export { useStreamToken } from './useStreamToken';
export { useSuspenseStreamToken } from './useSuspenseStreamToken';
export { useStreamTokenGetter } from './useStreamTokenGetter';
export {
  streamTokenQueryOptions,
  streamTokenQueryKey,
  STREAM_TOKEN_QUERY_KEY_PREFIX,
} from './streamTokenQueryOptions';
export { createProxyFetcher } from './core/createProxyFetcher';
export { decodeStreamToken } from './core/decodeStreamToken';
export { CasTokenError, isCasTokenError } from './core/CasTokenError';

export type { CasTokenProviderProps } from './CasTokenProvider';
export type {
  StreamTokenState,
  StreamTokenSuccess,
  StreamTokenPending,
  StreamTokenFailure,
} from './useStreamToken';
export type { GetStreamTokenOptions } from './useStreamTokenGetter';
export type { StreamTokenQueryOptionsInput, StreamTokenQueryKey } from './streamTokenQueryOptions';
export type { ProxyFetcherOptions } from './core/createProxyFetcher';
export type { StreamTokenInfo, CasTokenClaims, DecodeStreamTokenOptions } from './core/decodeStreamToken';
export type { CasTokenErrorCode, CasTokenErrorOptions } from './core/CasTokenError';
export type { StreamTokenFetcher, StreamTokenFetcherContext, StreamTokenFetchResult } from './core/StreamTokenFetcher';
