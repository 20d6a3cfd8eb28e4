import { describe, expectTypeOf, it, vi } from 'vitest';
import { createProxyFetcher, CasTokenError } from 'react-cas-token';
import {
  casTokenParameters,
  createMockFetcher,
  createMockTokenProxy,
  MockCasTokenProvider,
  setupFakeTimers,
  withCasToken,
  type FakeClock,
  type MockTokenProxy,
  type WithCasTokenOptions,
} from 'react-cas-token/testing';

describe('casTokenParameters types', () => {
  it('returns parameters with casToken, to spread next to other parameters', () => {
    expectTypeOf(casTokenParameters({ latencyMs: 3_000 })).toEqualTypeOf<{ casToken: WithCasTokenOptions }>();
    expectTypeOf({ layout: 'centered', ...casTokenParameters({}) }).toHaveProperty('casToken');
  });

  it('fails to compile on a misspelt option or failure', () => {
    // @ts-expect-error latencyMS is not an option: latencyMs is
    casTokenParameters({ latencyMS: 3_000 });
    // @ts-expect-error 'unauthorised' is not a CasTokenError code
    casTokenParameters({ failures: () => 'unauthorised' });
    // @ts-expect-error failures by number take codes too
    casTokenParameters({ failures: { 1: 'netwrok' } });
    // @ts-expect-error lifetimeMs is a number of ms
    casTokenParameters({ lifetimeMs: '10s' });
  });

  it('takes createFetcher, and no fetcher or queryClient object a story would share across visits', () => {
    casTokenParameters({ createFetcher: () => createMockFetcher(), lifetimeMs: 30_000 });
    casTokenParameters({ createFetcher: () => createProxyFetcher('/api/cas-token') });
    // @ts-expect-error a fetcher made once at module scope carries its calls from visit to visit
    casTokenParameters({ fetcher: createMockFetcher() });
    // @ts-expect-error the same for a QueryClient: every visit gets its own
    casTokenParameters({ queryClient: {} });
    // @ts-expect-error so do the decorator's options
    withCasToken({ fetcher: createMockFetcher() });
  });

  it('takes failures as codes or CasTokenErrors, by number or from a function of the call', () => {
    casTokenParameters({ failures: { 1: 'network', 2: new CasTokenError('http', 'busy', { status: 429 }) } });
    casTokenParameters({ failures: (call) => (call.number < 3 ? 'timeout' : undefined) });
  });
});

describe('MockCasTokenProvider types', () => {
  it('takes fetcher or createFetcher, not both', () => {
    void (<MockCasTokenProvider fetcher={createMockFetcher()} />);
    void (<MockCasTokenProvider createFetcher={() => createMockFetcher()} />);
    // @ts-expect-error one way to choose the fetcher at a time
    void (<MockCasTokenProvider fetcher={createMockFetcher()} createFetcher={() => createMockFetcher()} />);
  });

  it('takes a retryDelay as CasTokenProvider does', () => {
    void (<MockCasTokenProvider retryDelay={0} />);
    void (<MockCasTokenProvider retryDelay={(failureCount, error) => (error.code === 'network' ? failureCount * 10 : 0)} />);
  });
});

describe('createMockTokenProxy types', () => {
  it('is a Fetch-API handler, as MSW and toNodeHandler take', () => {
    expectTypeOf(createMockTokenProxy()).toEqualTypeOf<MockTokenProxy>();
    expectTypeOf(createMockTokenProxy()).toExtend<(request: Request) => Promise<Response>>();
    expectTypeOf(createMockTokenProxy().fetch).toEqualTypeOf<typeof fetch>();
  });

  it("takes the proxy's failures, and no client-only code", () => {
    createMockTokenProxy({ failures: { 1: 'network', 2: 'store-unavailable', 3: 'cas-unauthorized', 4: new Response(null, { status: 418 }) } });
    // @ts-expect-error invalid-config is thrown where a setting is given, never answered by a proxy
    createMockTokenProxy({ failures: { 1: 'invalid-config' } });
    // @ts-expect-error 'unauthorised' is misspelt
    createMockTokenProxy({ failures: () => 'unauthorised' });
  });
});

/** The members of Jest's `jest` object (Jest 29.5 and 30) that setupFakeTimers uses. */
interface JestObject {
  useFakeTimers(fakeTimersConfig?: { advanceTimers?: boolean | number; doNotFake?: string[]; now?: number | Date; timerLimit?: number; legacyFakeTimers?: false } | { legacyFakeTimers?: true }): JestObject;
  useRealTimers(): JestObject;
  advanceTimersByTime(msToRun: number): void;
  advanceTimersByTimeAsync(msToRun: number): Promise<void>;
}

describe('setupFakeTimers types', () => {
  it("takes Vitest's vi, Jest's jest, or just advanceTimersByTimeAsync", () => {
    expectTypeOf(setupFakeTimers(vi)).toEqualTypeOf<FakeClock>();
    expectTypeOf(setupFakeTimers).toBeCallableWith({} as JestObject);
    expectTypeOf(setupFakeTimers).toBeCallableWith({ advanceTimersByTimeAsync: async (_ms: number) => {} });
  });

  it('refuses an object that cannot move a fake clock', () => {
    // @ts-expect-error advanceTimersByTime (sync) is not enough: renewal runs on promises
    setupFakeTimers({ advanceTimersByTime: (_ms: number) => {} });
    // @ts-expect-error shouldAdvanceTime is a boolean
    setupFakeTimers(vi, { shouldAdvanceTime: 20 });
  });
});
