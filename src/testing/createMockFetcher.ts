import { CasTokenError, type CasTokenErrorCode } from '../core/CasTokenError.js';
import type { StreamTokenFetcher, StreamTokenFetcherContext, StreamTokenFetchResult } from '../core/StreamTokenFetcher.js';
import { checkMockTokenOptions, createMockTokenSource, type MockCall, type MockFailures, type MockTokenOptions } from './mockTokenSource.js';

/** How a mock call fails: an error code (with a ready-made message), or the exact error to throw. */
export type MockFailure = CasTokenErrorCode | CasTokenError;

/** One call of a mock fetcher, as recorded in `fetcher.calls`. */
export interface MockFetcherCall extends MockCall {
  /** The error thrown, for `error`. */
  error: CasTokenError | undefined;
}

export interface MockFetcherOptions extends MockTokenOptions {
  /**
   * Which calls fail: by call number (`{ 2: 'network', 3: 'http' }`), or a function of the call
   * that returns a failure or undefined (`() => 'unauthorized'` fails every call).
   */
  failures?: MockFailures<MockFailure, MockFetcherCall>;
  /** @defaultValue false */
  sameTokenPerRoom?: boolean;
}

/** A `StreamTokenFetcher` that mints test tokens and records its calls. */
export interface MockFetcher extends StreamTokenFetcher {
  /** Every call so far, oldest first. Entries update in place as calls settle. */
  readonly calls: readonly MockFetcherCall[];
  /** Makes the next `count` calls fail, ahead of the `failures` option. */
  failNext(failure: MockFailure, count?: number): void;
  /** Forgets the recorded calls, queued failures and per-room tokens. */
  reset(): void;
}

const MESSAGES: Record<CasTokenErrorCode, string> = {
  network: 'Could not reach the token proxy (simulated network failure).',
  timeout: 'The token proxy did not answer in time (simulated timeout).',
  http: 'The token proxy answered HTTP 503 (simulated).',
  unauthorized: 'The token proxy refused the request (simulated HTTP 401): is the user signed in?',
  forbidden: 'The token proxy refused the request (simulated HTTP 403): the user may not join this room.',
  'invalid-response': 'The token proxy answered an HTML page instead of JSON (simulated).',
  'invalid-token': 'The token is not a decodable JWT (simulated).',
  'invalid-config': 'A setting is missing (simulated).',
};
const STATUS: Partial<Record<CasTokenErrorCode, number>> = { http: 503, unauthorized: 401, forbidden: 403 };

function toError(failure: MockFailure, call: MockFetcherCall): CasTokenError {
  if (typeof failure !== 'string') return failure;
  const status = STATUS[failure];
  return new CasTokenError(failure, `${MESSAGES[failure]} [mock call ${call.number}]`, status === undefined ? {} : { status });
}

/** The options a `MockCasTokenProvider` lends to the mock fetcher it uses, read at each call. */
const lentOptions = new WeakMap<StreamTokenFetcher, () => MockFetcherOptions>();

/**
 * Lets a provider's mock options fill in whatever options a mock fetcher was not given itself.
 * Internal to the testing entry: `MockCasTokenProvider` calls it.
 */
export function lendMockOptions(fetcher: StreamTokenFetcher, getOptions: () => MockFetcherOptions): void {
  lentOptions.set(fetcher, getOptions);
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * Makes a fetcher for tests and stories that answers `{ token, expiresIn }` with test tokens,
 * fails on the calls you choose with any `CasTokenError` code, honours the abort signal, and
 * records each call (room, time, outcome) in `fetcher.calls`.
 *
 * Given to a `MockCasTokenProvider`, the options it was made with win, and the provider's
 * (`lifetimeMs`, `latencyMs`, ...) fill in the ones it was not given.
 *
 * @example
 * ```ts
 * const fetcher = createMockFetcher({ lifetimeMs: 10_000, failures: { 2: 'network' } });
 * render(<CasTokenProvider fetcher={fetcher}><Player /></CasTokenProvider>);
 * await vi.advanceTimersByTimeAsync(5_000);
 * expect(fetcher.calls.map((call) => call.status)).toEqual(['success', 'error']);
 * ```
 */
export function createMockFetcher(options: MockFetcherOptions = {}): MockFetcher {
  checkMockTokenOptions('createMockFetcher', options);
  const resolveOptions = (): MockFetcherOptions => {
    const lent = lentOptions.get(fetcher)?.();
    if (lent === undefined) return options;
    const merged = { ...definedOnly(lent), ...definedOnly(options) };
    checkMockTokenOptions('createMockFetcher (with the provider\u2019s options)', merged);
    return merged;
  };
  const source = createMockTokenSource<MockFailure, MockFetcherCall>(resolveOptions);

  async function fetcher({ signal, room, held }: StreamTokenFetcherContext): Promise<StreamTokenFetchResult> {
    const call = source.open({ room, error: undefined, held: held?.token });
    const outcome = await source.serve(call, signal);
    if (outcome.failure === undefined) {
      const { token, expiresIn, refreshIn, checkIn, seal } = outcome;
      return {
        token,
        ...(expiresIn !== undefined && { expiresIn }),
        ...(refreshIn !== undefined && { refreshIn }),
        ...(checkIn !== undefined && { checkIn, seal }),
      };
    }
    call.error = toError(outcome.failure, call);
    throw call.error;
  }

  return Object.assign(fetcher, { calls: source.calls, failNext: source.failNext, reset: source.reset });
}
