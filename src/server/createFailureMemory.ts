import type { ProxyFailure } from './ProxyFailure.js';

/**
 * Remembers the last failed CAS call for a while. CAS's token call names no room, so its failure
 * is every room's: requests meanwhile get the same answer, with the time left as `Retry-After`,
 * and CAS is not called. Once the time is up one request asks CAS again (the probe) while the
 * others still get the failure, to come back a second later: a failing CAS gets one call per
 * failureCacheMs from this process, not one per room, and its recovery is seen within that.
 */
export function createFailureMemory() {
  let remembered: { failure: ProxyFailure; until: number } | undefined;
  // While a probe is out: until when it may take (then another request probes).
  let probeUntil = Number.NEGATIVE_INFINITY;
  return {
    remember(failure: ProxyFailure, forMs: number): void {
      probeUntil = Number.NEGATIVE_INFINITY;
      remembered = forMs > 0 ? { failure, until: Date.now() + forMs } : undefined;
    },
    /** Whether CAS failed last time it was asked (nothing has answered since). */
    failing: (): boolean => remembered !== undefined,
    /** CAS answered: nothing to remember. */
    forget(): void {
      probeUntil = Number.NEGATIVE_INFINITY;
      remembered = undefined;
    },
    /**
     * The failure to answer with, and the ms until CAS is asked again; undefined when this request
     * may ask CAS, as the probe when a failure is remembered (it has `probeMs` to report back).
     */
    recall(probeMs: number): { failure: ProxyFailure; leftMs: number } | undefined {
      if (remembered === undefined) return undefined;
      const now = Date.now();
      const leftMs = remembered.until - now;
      if (leftMs > 0) return { failure: remembered.failure, leftMs };
      if (now < probeUntil) return { failure: remembered.failure, leftMs: 1_000 };
      probeUntil = now + probeMs;
      return undefined;
    },
  };
}
