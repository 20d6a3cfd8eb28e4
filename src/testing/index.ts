'use client';

export { createTestToken } from './createTestToken.js';
export { createMockFetcher } from './createMockFetcher.js';
export { MockCasTokenProvider } from './MockCasTokenProvider.js';
export { withCasToken } from './withCasToken.js';

export type { TestTokenOptions } from './createTestToken.js';
export type { MockFailure, MockFetcher, MockFetcherCall, MockFetcherOptions } from './createMockFetcher.js';
export type { MockCasTokenProviderProps } from './MockCasTokenProvider.js';
export type { CasTokenDecorator, CasTokenStoryContext, WithCasTokenOptions } from './withCasToken.js';
