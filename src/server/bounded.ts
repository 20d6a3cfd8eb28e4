function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Calls `start` and waits for its answer at most `ms`; past that, rejects with `onTimeout()`.
 * A synchronous answer (the memory store, most `room` functions) needs no timer. The timer is
 * cleared as soon as the answer comes, and an answer that comes too late is ignored, rejection
 * included: a promise that never settles holds nothing but itself.
 */
export function bounded<T>(start: () => T | PromiseLike<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let value: T | PromiseLike<T>;
  try {
    value = start();
  } catch (error) {
    return Promise.reject(error);
  }
  if (!isThenable(value)) return Promise.resolve(value);
  const pending = value;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    Promise.resolve(pending).then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`. Every caller waits a bounded, short time, so the timer always fires. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
