'use client';

export { createTestToken } from './createTestToken.js';
export { createMockFetcher } from './createMockFetcher.js';
export { createMockTokenProxy } from './createMockTokenProxy.js';
export { MockCasTokenProvider } from './MockCasTokenProvider.js';
export { withCasToken } from './withCasToken.js';
export { casTokenParameters } from './casTokenParameters.js';
export { setupFakeTimers } from './setupFakeTimers.js';

export type { TestTokenOptions } from './createTestToken.js';
export type { MockCall, MockFailures, MockTokenOptions } from './mockTokenSource.js';
export type { MockFailure, MockFetcher, MockFetcherCall, MockFetcherOptions } from './createMockFetcher.js';
export type { MockProxyCall, MockProxyFailure, MockTokenProxy, MockTokenProxyOptions } from './createMockTokenProxy.js';
export type { MockCasTokenProviderBaseProps, MockCasTokenProviderProps } from './MockCasTokenProvider.js';
export type { CasTokenDecorator, CasTokenStoryContext, WithCasTokenOptions } from './withCasToken.js';
export type { FakeClock, FakeTimerFunctions, SetupFakeTimersOptions } from './setupFakeTimers.js';
