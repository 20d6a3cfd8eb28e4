import { CasTokenError, type CasTokenErrorCode } from '../core/CasTokenError.js';
import type { StreamTokenFetcher, StreamTokenFetcherContext } from '../core/StreamTokenFetcher.js';
import { createTestToken } from './createTestToken.js';

/** How a mock call fails: an error code (with a ready-made message), or the exact error to throw. */
export type MockFailure = CasTokenErrorCode | CasTokenError;

/** One call of a mock fetcher, as recorded in `fetcher.calls`. */
export interface MockFetcherCall {
  /** 1 for the first call. */
  number: number;
  /** The room the provider asked for, if any. */
  room: string | undefined;
  /** `Date.now()` when the call was made (the fake clock under fake timers). */
  startedAt: number;
  /** `Date.now()` when it answered, failed or was aborted; undefined while in flight. */
  settledAt: number | undefined;
  status: 'pending' | 'success' | 'error' | 'aborted';
  /** True once the caller's signal fired while the call was in flight. */
  aborted: boolean;
  /** The token answered, for `success`. */
  token: string | undefined;
  /** The error thrown, for `error`. */
  error: CasTokenError | undefined;
}

export interface MockFetcherOptions {
  /**
   * The lifetime of the tokens it mints, in ms. `Infinity` mints tokens without `exp`.
   * @defaultValue 3_600_000
   */
  lifetimeMs?: number;
  /**
   * How long each call takes, in ms, timed with `setTimeout` so fake timers drive it.
   * @defaultValue 0 (answers on the next microtask, no timer)
   */
  latencyMs?: number;
  /**
   * Which calls fail: by call number (`{ 2: 'network', 3: 'http' }`), or a function of the call
   * that returns a failure or undefined (`() => 'unauthorized'` fails every call).
   */
  failures?: Partial<Record<number, MockFailure>> | ((call: MockFetcherCall) => MockFailure | undefined);
  /**
   * Answer everyone asking for a room the same token, as the server proxy does (a CAS token
   * stands for one session), until half its lifetime has passed. Otherwise every call mints a
   * new token.
   * @defaultValue false
   */
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
  'invalid-response': 'The token proxy answered an HTML page instead of JSON (simulated).',
  'invalid-token': 'The token is not a decodable JWT (simulated).',
  'invalid-config': 'A setting is missing (simulated).',
};
const STATUS: Partial<Record<CasTokenErrorCode, number>> = { http: 503, unauthorized: 401 };

function toError(failure: MockFailure, call: MockFetcherCall): CasTokenError {
  if (typeof failure !== 'string') return failure;
  const status = STATUS[failure];
  return new CasTokenError(failure, `${MESSAGES[failure]} [mock call ${call.number}]`, status === undefined ? {} : { status });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * Makes a fetcher for tests and stories that answers `{ token, expiresIn }` with test tokens,
 * fails on the calls you choose with any `CasTokenError` code, honours the abort signal, and
 * records each call (room, time, outcome) in `fetcher.calls`.
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
  const lifetimeMs = options.lifetimeMs ?? 3_600_000;
  const latencyMs = options.latencyMs ?? 0;
  const calls: MockFetcherCall[] = [];
  const queued: MockFailure[] = [];
  const roomTokens = new Map<string | undefined, { token: string; issuedAt: number }>();

  function plannedFailure(call: MockFetcherCall): MockFailure | undefined {
    if (queued.length > 0) return queued.shift();
    const { failures } = options;
    return typeof failures === 'function' ? failures(call) : failures?.[call.number];
  }

  function mint(room: string | undefined, now: number): { token: string; expiresIn?: number } {
    let entry = options.sameTokenPerRoom ? roomTokens.get(room) : undefined;
    if (entry === undefined || now - entry.issuedAt >= lifetimeMs / 2) {
      entry = { token: createTestToken({ lifetimeMs, issuedAt: now, ...(room === undefined ? {} : { room }) }), issuedAt: now };
      if (options.sameTokenPerRoom) roomTokens.set(room, entry);
    }
    if (lifetimeMs === Number.POSITIVE_INFINITY) return { token: entry.token };
    return { token: entry.token, expiresIn: entry.issuedAt + lifetimeMs - now };
  }

  const fetcher = ({ signal, room }: StreamTokenFetcherContext) => {
    const call: MockFetcherCall = {
      number: calls.length + 1,
      room,
      startedAt: Date.now(),
      settledAt: undefined,
      status: 'pending',
      aborted: false,
      token: undefined,
      error: undefined,
    };
    calls.push(call);
    const failure = plannedFailure(call);

    return new Promise<{ token: string; expiresIn?: number }>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        call.aborted = true;
        call.status = 'aborted';
        call.settledAt = Date.now();
        reject(abortReason(signal));
      };
      const answer = () => {
        if (call.status !== 'pending') return;
        signal.removeEventListener('abort', onAbort);
        call.settledAt = Date.now();
        if (failure !== undefined) {
          call.status = 'error';
          call.error = toError(failure, call);
          reject(call.error);
          return;
        }
        const result = mint(room, call.settledAt);
        call.status = 'success';
        call.token = result.token;
        resolve(result);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      if (latencyMs > 0) timer = setTimeout(answer, latencyMs);
      else queueMicrotask(answer);
    });
  };

  return Object.assign(fetcher, {
    calls,
    failNext(failure: MockFailure, count = 1) {
      for (let i = 0; i < count; i++) queued.push(failure);
    },
    reset() {
      calls.length = 0;
      queued.length = 0;
      roomTokens.clear();
    },
  });
}
