import type { ProxyFailure } from './ProxyFailure.js';

/** Failures remembered at once; past that the oldest is forgotten (it costs one CAS call). */
const MAX_REMEMBERED = 10_000;

/**
 * Remembers a room's failed CAS call for a while, so that requests in that window get the same
 * answer (with the time left as `Retry-After`) instead of calling a failing CAS again.
 */
export function createFailureMemory() {
  const failures = new Map<string, { failure: ProxyFailure; until: number }>();
  return {
    remember(room: string, failure: ProxyFailure, forMs: number): void {
      failures.delete(room);
      if (forMs <= 0) return;
      if (failures.size >= MAX_REMEMBERED) failures.delete(failures.keys().next().value as string);
      failures.set(room, { failure, until: Date.now() + forMs });
    },
    /** The room's failure with the time it has left, or undefined. */
    recall(room: string): { failure: ProxyFailure; leftMs: number } | undefined {
      const remembered = failures.get(room);
      if (remembered === undefined) return undefined;
      const leftMs = remembered.until - Date.now();
      if (leftMs > 0) return { failure: remembered.failure, leftMs };
      failures.delete(room);
      return undefined;
    },
  };
}
