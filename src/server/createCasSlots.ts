import { busy } from './ProxyFailure.js';

/** At most this many rooms wait for a CAS slot per slot; more are turned away at once. */
export const QUEUED_PER_SLOT = 64;

/**
 * At most `max` CAS calls at once in this process; the next rooms wait in line, first come
 * first served, each until its own `waitUntil`, and the line is at most `max × 64` long. A
 * room turned away answers 503 `cas-busy` (`Retry-After: 1`): CAS is never asked 2,000 times
 * at once because 2,000 new room names arrived together.
 */
export function createCasSlots(max: number) {
  let active = 0;
  // A Set keeps insertion order (the line) and drops a waiter who gives up in O(1).
  const line = new Set<() => void>();
  const maxWaiting = max * QUEUED_PER_SLOT;

  function grantNext(): void {
    while (active < max && line.size > 0) {
      const [next] = line;
      line.delete(next as () => void);
      (next as () => void)();
    }
  }

  function releaser(): () => void {
    active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active -= 1;
      grantNext();
    };
  }

  return {
    /** Resolves to the slot's release function; rejects with `cas-busy` at `waitUntil`. */
    acquire(waitUntil: number): Promise<() => void> {
      if (active < max && line.size === 0) return Promise.resolve(releaser());
      const wait = waitUntil - Date.now();
      if (line.size >= maxWaiting || wait <= 0) {
        return Promise.reject(busy('Too many rooms are waiting for the token service; try again in a moment.'));
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          clearTimeout(timer);
          resolve(releaser());
        };
        const timer = setTimeout(() => {
          line.delete(grant);
          reject(busy('Too many rooms are waiting for the token service; try again in a moment.'));
        }, wait);
        line.add(grant);
      });
    },
    /** CAS calls in flight now. */
    get active() {
      return active;
    },
  };
}
