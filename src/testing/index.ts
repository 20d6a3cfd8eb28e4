'use client';

export { createTestToken } from './createTestToken';
export { createMockFetcher } from './createMockFetcher';
export { MockCasTokenProvider } from './MockCasTokenProvider';
export { withCasToken } from './withCasToken';

export type { TestTokenOptions } from './createTestToken';
export type { MockFailure, MockFetcher, MockFetcherCall, MockFetcherOptions } from './createMockFetcher';
export type { MockCasTokenProviderProps } from './MockCasTokenProvider';
export type { CasTokenDecorator, CasTokenStoryContext, WithCasTokenOptions } from './withCasToken';
