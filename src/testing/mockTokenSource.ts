import { computeRefreshAt } from '../core/refreshTiming.js';
import { MAX_TIMEOUT_MS, setLongTimeout } from '../core/setLongTimeout.js';
import { createTestToken } from './createTestToken.js';

/**
 * The knobs the mock fetcher and the mock proxy share: how the tokens they mint live, and how
 * long an answer takes.
 */
export interface MockTokenOptions {
  /**
   * The lifetime of the tokens it mints, in ms. `Infinity` mints tokens without `exp`.
   * @defaultValue 3_600_000
   */
  lifetimeMs?: number;
  /**
   * How long each call takes, in ms, timed with `setTimeout` so fake timers drive it.
   * `Infinity` never answers (until the request is aborted): a "pending" story. No timer is set
   * for it.
   * @defaultValue 0 (answers on the next microtask, no timer)
   */
  latencyMs?: number;
  /**
   * Answer everyone asking for a room the same token, as the server proxy does (a CAS token
   * stands for one session), until the proxy would replace it: half its lifetime for tokens
   * under 10 minutes, 5 minutes before it expires otherwise. Answers then carry `refreshIn`, the
   * time until that replacement, as the server proxy's do. Otherwise every call mints a new token.
   */
  sameTokenPerRoom?: boolean;
  /**
   * The first token of each room has only this long left, in ms: it was issued
   * `lifetimeMs - firstTokenExpiresInMs` ago. The client renews it soon (at half of the time it
   * has left), so a story or test shows a renewal within seconds. Later tokens live `lifetimeMs`.
   * @defaultValue undefined (the first token is fresh)
   */
  firstTokenExpiresInMs?: number;
  /**
   * Ask clients to check their token every this many ms, as the server proxy does
   * (`checkIntervalMs`): answers then carry `checkIn` and a `seal`, and the client sends its held
   * token back with each check (`call.held`). Needs `sameTokenPerRoom` (the mock proxy has it). Off
   * unless given, so a test's fake hour is not full of checks.
   * @defaultValue undefined (no checks)
   */
  checkInMs?: number;
}

/** One call of a mock, as recorded in its `calls`. */
export interface MockCall {
  /** 1 for the first call. */
  number: number;
  /** The room asked for, if any. */
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
  /** The token the caller held and sent back with the call (a check or renewal), if any. */
  held: string | undefined;
}

/** Which calls fail: by call number, or a function of the call. */
export type MockFailures<Failure, Call> = Partial<Record<number, Failure>> | ((call: Call) => Failure | undefined);

export interface MockSourceOptions<Failure, Call> extends MockTokenOptions {
  failures?: MockFailures<Failure, Call>;
}

/** What a call comes to: a token, or the failure planned for it. */
export type MockOutcome<Failure> =
  | { failure: Failure }
  | { failure?: undefined; token: string; expiresIn?: number; refreshIn?: number; checkIn?: number; seal?: string };

/** The server proxy's default `refreshLeadMs` (`DEFAULT_SERVER_REFRESH_LEAD_MS`), copied: the testing entry never imports the server. */
const PROXY_ROTATION_LEAD_MS = 300_000;
const DEFAULT_LIFETIME_MS = 3_600_000;

interface RoomToken {
  token: string;
  expiresAt: number;
  rotateAt: number;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * Checks the shared options, so a typo in a test fails where it is written with a message that
 * says what is wrong, instead of a token that never comes.
 */
export function checkMockTokenOptions(where: string, options: MockTokenOptions): void {
  const { lifetimeMs, latencyMs, firstTokenExpiresInMs, checkInMs } = options;
  if (checkInMs !== undefined && !(checkInMs >= 1_000 && Number.isFinite(checkInMs))) {
    throw new RangeError(`${where}: checkInMs must be a number of ms, 1000 or more, not ${String(checkInMs)}.`);
  }
  if (lifetimeMs !== undefined && !(lifetimeMs > 0)) {
    throw new RangeError(`${where}: lifetimeMs must be a positive number of ms (or Infinity), not ${String(lifetimeMs)}.`);
  }
  if (latencyMs !== undefined && !(latencyMs >= 0)) {
    throw new RangeError(`${where}: latencyMs must be a number of ms >= 0 (Infinity never answers), not ${String(latencyMs)}.`);
  }
  if (firstTokenExpiresInMs !== undefined) {
    const lifetime = lifetimeMs ?? DEFAULT_LIFETIME_MS;
    if (!Number.isFinite(lifetime)) {
      throw new RangeError(`${where}: firstTokenExpiresInMs needs a finite lifetimeMs: a token without \`exp\` never expires.`);
    }
    if (!(firstTokenExpiresInMs > 0) || firstTokenExpiresInMs > lifetime) {
      throw new RangeError(
        `${where}: firstTokenExpiresInMs must be a number of ms > 0 and at most lifetimeMs (${lifetime}), not ${String(firstTokenExpiresInMs)}.`,
      );
    }
  }
}

/**
 * The engine behind `createMockFetcher` and `createMockTokenProxy`: plans failures, waits out the
 * latency (honouring an abort), mints test tokens per room and records every call. Each mock
 * only turns an outcome into its own kind of answer: a thrown `CasTokenError`, or an HTTP
 * `Response`. Options are read at each call, so a provider's new props apply to the next one.
 */
export function createMockTokenSource<Failure, Call extends MockCall>(getOptions: () => MockSourceOptions<Failure, Call>) {
  const calls: Call[] = [];
  const queued: Failure[] = [];
  const roomTokens = new Map<string | undefined, RoomToken>();
  const servedRooms = new Set<string | undefined>();

  function plannedFailure(call: Call, options: MockSourceOptions<Failure, Call>): Failure | undefined {
    if (queued.length > 0) return queued.shift();
    const { failures } = options;
    return typeof failures === 'function' ? failures(call) : failures?.[call.number];
  }

  function mint(room: string | undefined, now: number, options: MockTokenOptions): Extract<MockOutcome<Failure>, { token: string }> {
    const lifetimeMs = options.lifetimeMs ?? DEFAULT_LIFETIME_MS;
    let entry = options.sameTokenPerRoom ? roomTokens.get(room) : undefined;
    if (entry === undefined || now >= entry.rotateAt) {
      const first = !servedRooms.has(room) && options.firstTokenExpiresInMs !== undefined;
      const issuedAt = first ? now - (lifetimeMs - options.firstTokenExpiresInMs!) : now;
      const token = createTestToken({ lifetimeMs, issuedAt, ...(room === undefined ? {} : { room }) });
      const expiresAt = issuedAt + lifetimeMs;
      entry = { token, expiresAt, rotateAt: computeRefreshAt(issuedAt, expiresAt, PROXY_ROTATION_LEAD_MS) };
      servedRooms.add(room);
      if (options.sameTokenPerRoom) roomTokens.set(room, entry);
    }
    // The server proxy's seal is an HMAC; the mock's only needs to be the same for the same token.
    const checks = options.sameTokenPerRoom && options.checkInMs !== undefined ? { checkIn: options.checkInMs, seal: `mock.${entry.rotateAt}` } : {};
    if (!Number.isFinite(entry.expiresAt)) return { token: entry.token, ...checks };
    const expiresIn = entry.expiresAt - now;
    return options.sameTokenPerRoom
      ? { token: entry.token, expiresIn, refreshIn: Math.max(0, entry.rotateAt - now), ...checks }
      : { token: entry.token, expiresIn };
  }

  /** Records a call: `number`, `startedAt` and `status` are filled in here. */
  function open(fields: Omit<Call, keyof MockCall> & { room: string | undefined; held?: string | undefined }): Call {
    const call = {
      held: undefined,
      ...fields,
      number: calls.length + 1,
      startedAt: Date.now(),
      settledAt: undefined,
      status: 'pending',
      aborted: false,
      token: undefined,
    } as Call;
    calls.push(call);
    return call;
  }

  /**
   * Answers a call after the latency, with a token or its planned failure (status `error`; the
   * mock records the details). Rejects with the abort reason when `signal` fires first.
   */
  function serve(call: Call, signal: AbortSignal | undefined, decide?: () => Failure | undefined): Promise<MockOutcome<Failure>> {
    const options = getOptions();
    const latencyMs = options.latencyMs ?? 0;
    const failure = plannedFailure(call, options) ?? decide?.();

    return new Promise<MockOutcome<Failure>>((resolve, reject) => {
      let cancel: (() => void) | undefined;
      const onAbort = () => {
        cancel?.();
        call.aborted = true;
        call.status = 'aborted';
        call.settledAt = Date.now();
        reject(abortReason(signal!));
      };
      const answer = () => {
        if (call.status !== 'pending') return;
        signal?.removeEventListener('abort', onAbort);
        call.settledAt = Date.now();
        if (failure !== undefined) {
          call.status = 'error';
          resolve({ failure });
          return;
        }
        // Read again: the lifetime may have changed while the call was in flight.
        const result = mint(call.room, call.settledAt, getOptions());
        call.status = 'success';
        call.token = result.token;
        resolve(result);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (latencyMs === Number.POSITIVE_INFINITY) return; // never answers: no timer to overflow
      // A promise, not queueMicrotask: Jest's fake timers fake that one.
      if (latencyMs === 0) void Promise.resolve().then(answer);
      else if (latencyMs <= MAX_TIMEOUT_MS) {
        const timer = setTimeout(answer, latencyMs);
        cancel = () => clearTimeout(timer);
      } else cancel = setLongTimeout(answer, Date.now() + latencyMs);
    });
  }

  return {
    calls: calls as readonly Call[],
    open,
    serve,
    failNext(failure: Failure, count = 1) {
      if (!(count >= 0) || !Number.isInteger(count)) throw new RangeError(`failNext: count must be a whole number >= 0, not ${count}.`);
      for (let i = 0; i < count; i++) queued.push(failure);
    },
    reset() {
      calls.length = 0;
      queued.length = 0;
      roomTokens.clear();
      servedRooms.clear();
    },
  };
}
