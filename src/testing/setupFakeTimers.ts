import * as React from 'react';
import { notifyManager } from '@tanstack/react-query';

/**
 * The clock functions `setupFakeTimers` uses: Vitest's `vi` and Jest's `jest` fit as they are.
 * With only `advanceTimersByTimeAsync`, the test installs and removes fake timers itself.
 */
export interface FakeTimerFunctions {
  /** Moves the fake clock on, running the timers due and the promises they settle. */
  advanceTimersByTimeAsync(ms: number): unknown;
  /** Installs fake timers (`vi.useFakeTimers`, `jest.useFakeTimers`). */
  useFakeTimers?(config?: { now?: number | Date; shouldAdvanceTime?: boolean; advanceTimers?: boolean }): unknown;
  /** Removes them (`vi.useRealTimers`, `jest.useRealTimers`). */
  useRealTimers?(): unknown;
}

export interface SetupFakeTimersOptions {
  /**
   * Where the fake clock starts (epoch ms or a Date).
   * @defaultValue now, rounded down to a whole second, so test tokens' `iat` and `exp` are whole
   * numbers and `expiresAt` can be predicted to the millisecond
   */
  now?: number | Date;
  /**
   * Let fake time also pass with real time (Vitest's `shouldAdvanceTime`, Jest's
   * `advanceTimers`), which Testing Library's `findBy*` and `waitFor` need under Vitest.
   * @defaultValue false: time moves only with `advance`
   */
  shouldAdvanceTime?: boolean;
  /**
   * The `act` to wrap `advance` in, e.g. Testing Library's.
   * @defaultValue React's own `act` (React 18.3 and later), with `IS_REACT_ACT_ENVIRONMENT` set
   * while it runs, as Testing Library does
   */
  act?: (callback: () => Promise<void>) => Promise<unknown> | unknown;
}

/** What `setupFakeTimers` returns. */
export interface FakeClock {
  /** Moves fake time on by `ms` inside `act`, so React has rendered what the timers caused. */
  advance(ms: number): Promise<void>;
  /** Puts back real timers (when it installed them) and react-query's own scheduler. */
  restore(): void;
}

type Act = (callback: () => Promise<void>) => Promise<unknown> | unknown;

/** react-query's scheduler when nothing set another: a `setTimeout(0)`. */
const reactQueryScheduler = (callback: () => void) => {
  setTimeout(callback, 0);
};

// A resolved promise is never faked, by Vitest or by Jest (which fakes queueMicrotask).
const onMicrotask = (callback: () => void) => {
  void Promise.resolve().then(callback);
};

function reactAct(): Act | undefined {
  const act = (React as { act?: Act }).act;
  if (typeof act !== 'function') return undefined;
  const scope = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
  return async (callback) => {
    const previous = scope.IS_REACT_ACT_ENVIRONMENT;
    scope.IS_REACT_ACT_ENVIRONMENT = true;
    try {
      await act(callback);
    } finally {
      scope.IS_REACT_ACT_ENVIRONMENT = previous;
    }
  };
}

/**
 * Fake timers for testing token renewal with Vitest or Jest: installs them through the runner's
 * own functions (`vi` or `jest`), makes react-query render on a microtask instead of a
 * `setTimeout(0)` (which fake timers would hold back), and gives an `advance(ms)` wrapped in `act`.
 *
 * Under it, time moves only when the test says so: read the screen with `getBy*` after
 * `await clock.advance(ms)`. `findBy*` and `waitFor` poll on timers: under Jest, Testing Library
 * moves Jest's fake clock itself; under Vitest they wait forever unless `shouldAdvanceTime` is set.
 *
 * @example
 * ```ts
 * let clock: FakeClock;
 * beforeEach(() => {
 *   clock = setupFakeTimers(vi, { now: Date.UTC(2030, 0, 1) }); // or setupFakeTimers(jest)
 * });
 * afterEach(() => clock.restore());
 *
 * it('renews', async () => {
 *   render(<MockCasTokenProvider room="r" lifetimeMs={10_000}><Player /></MockCasTokenProvider>);
 *   await clock.advance(5_000);
 * });
 * ```
 */
export function setupFakeTimers(timers: FakeTimerFunctions, options: SetupFakeTimersOptions = {}): FakeClock {
  if (typeof timers?.advanceTimersByTimeAsync !== 'function') {
    throw new TypeError(
      'setupFakeTimers needs the test runner\u2019s clock functions: `vi` (Vitest), `jest` (Jest 29.5 or later), or an object with `advanceTimersByTimeAsync`.',
    );
  }
  const act = options.act ?? reactAct();
  if (act === undefined) {
    throw new TypeError('setupFakeTimers: this React has no `act` export (React before 18.3): pass `act` from @testing-library/react.');
  }
  const now = options.now ?? Math.floor(Date.now() / 1000) * 1000;
  const installed = typeof timers.useFakeTimers === 'function';
  if (installed) {
    const shouldAdvanceTime = options.shouldAdvanceTime ?? false;
    // Vitest reads `shouldAdvanceTime`, Jest reads `advanceTimers`; each ignores the other's.
    timers.useFakeTimers!({ now, shouldAdvanceTime, advanceTimers: shouldAdvanceTime });
  }
  notifyManager.setScheduler(onMicrotask);

  return {
    async advance(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms)) {
        throw new RangeError(`advance: ms must be a finite number of ms >= 0, not ${String(ms)}.`);
      }
      await act(async () => {
        await timers.advanceTimersByTimeAsync(ms);
      });
    },
    restore() {
      notifyManager.setScheduler(reactQueryScheduler);
      if (installed) timers.useRealTimers?.();
    },
  };
}
