import { createMemoryTokenStore, type TokenStore } from 'react-cas-token/server';

/**
 * The proxy's token store for the demo: an in-memory store, as a single server uses, that the
 * page's "Token proxy" buttons can break the way a shared Redis breaks:
 * - `loseEveryRoom()`: Redis restarting without persistence (or failing over to a replica that
 *   lost writes): the store is swapped for an empty one, and the handler finds every room missing;
 * - `setDown(true)`: Redis unreachable: every call fails, so the handler answers 503
 *   `store-unavailable`, and the rooms are still there once it is back.
 */
export interface DemoStore {
  /** What the handler is given: it forwards each call to the store of the moment. */
  readonly store: TokenStore;
  readonly down: boolean;
  /** How many times the store lost every room, and when last (epoch ms). */
  readonly losses: number;
  readonly lastLossAt: number | undefined;
  loseEveryRoom(): void;
  setDown(down: boolean): void;
}

export function createDemoStore(): DemoStore {
  let current = createMemoryTokenStore();
  let down = false;
  let losses = 0;
  let lastLossAt: number | undefined;

  /** The store of the moment, or the failure a client of an unreachable Redis gives. */
  function reach(): TokenStore {
    if (down) throw new Error('The demo token store is down (the "Store down" button).');
    return current;
  }

  return {
    store: {
      get: (key) => reach().get(key),
      setIfAbsent: (key, value, ttlMs) => reach().setIfAbsent(key, value, ttlMs),
      deleteIfEqual: (key, value) => reach().deleteIfEqual(key, value),
      // The memory store renews the lock's lease: a Redis store does too.
      extendIfEqual: (key, value, ttlMs) => reach().extendIfEqual!(key, value, ttlMs),
    },
    get down() {
      return down;
    },
    get losses() {
      return losses;
    },
    get lastLossAt() {
      return lastLossAt;
    },
    loseEveryRoom() {
      current = createMemoryTokenStore();
      losses += 1;
      lastLossAt = Date.now();
    },
    setDown(next) {
      down = next;
    },
  };
}
