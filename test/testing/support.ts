import { act } from '@testing-library/react';
import { notifyManager } from '@tanstack/react-query';
import { vi } from 'vitest';

/** A fake clock on a whole second, so test tokens' `iat` and `exp` are whole numbers. */
export const START = Date.UTC(2030, 0, 1, 20);

/**
 * Fake timers, with react-query's batched notifications moved from `setTimeout(0)` to a
 * microtask: a zero-delay timer set while fake timers are firing is put 1 ms later, so a
 * render would otherwise trail every answer that arrives in a timer by a millisecond.
 */
export function useFakeClock(now = START) {
  vi.useFakeTimers({ now });
  notifyManager.setScheduler(queueMicrotask);
}

export function useRealClock() {
  notifyManager.setScheduler((callback) => setTimeout(callback, 0));
  vi.useRealTimers();
}

/** Moves the fake clock on by `ms` and lets React render what happened meanwhile. */
export async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}
