/**
 * Lets one log line through per `intervalMs`, and counts the ones held back: a flood of requests
 * failing the same way (a full store, a store outage) must not write a line each.
 * `take()` answers undefined to hold the line back, or how many were held back since the last.
 */
export function logThrottle(intervalMs: number) {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let heldBack = 0;
  return {
    take(now = Date.now()): number | undefined {
      if (now - loggedAt < intervalMs) {
        heldBack += 1;
        return undefined;
      }
      const since = heldBack;
      loggedAt = now;
      heldBack = 0;
      return since;
    },
  };
}
