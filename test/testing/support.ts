import { setTimeout as realDelay } from 'node:timers/promises';
import { vi } from 'vitest';
import { setupFakeTimers, type FakeClock } from 'react-cas-token/testing';

/** A fake clock on a whole second, so test tokens' `iat` and `exp` are whole numbers. */
export const START = Date.UTC(2030, 0, 1, 20);

let clock: FakeClock | undefined;

/** Fake timers through the package's own helper, which these tests use as users would. */
export function useFakeClock(now = START) {
  clock = setupFakeTimers(vi, { now });
}

export function useRealClock() {
  clock?.restore();
  clock = undefined;
}

/** Moves the fake clock on by `ms` and lets React render what happened meanwhile. */
export async function advance(ms: number) {
  if (clock === undefined) throw new Error('advance() needs useFakeClock() first');
  await clock.advance(ms);
}

/**
 * The names of the process warnings (`TimeoutOverflowWarning`, ...) emitted while `run` runs on
 * real timers, plus a few real milliseconds for a warning emitted on the next tick.
 */
export async function processWarningsDuring(run: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    await run();
    await realDelay(20);
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}
