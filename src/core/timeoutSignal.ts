/**
 * A signal that aborts when `signal` does or when `timeoutMs` passes, whichever comes first,
 * and tells which it was. Timed with `setTimeout`, so fake timers drive it (unlike
 * `AbortSignal.timeout`). Call `dispose()` when the request is done.
 */
export function timeoutSignal(signal: AbortSignal | undefined, timeoutMs: number) {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    /** Aborts now, e.g. a transfer whose answer turned out too large to read. */
    abort: () => controller.abort(),
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
