export { createTestToken } from './createTestToken';
export type { TestTokenOptions } from './createTestToken';
export { createMockFetcher } from './createMockFetcher';
export type { MockFailure, MockFetcher, MockFetcherCall, MockFetcherOptions } from './createMockFetcher';
