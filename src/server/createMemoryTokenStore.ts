import { CasTokenError } from '../core/CasTokenError.js';
import { TokenStoreFullError, type TokenStore } from './TokenStore.js';

/** How many rooms the in-memory store keeps unless told otherwise. */
export const DEFAULT_MAX_ROOMS = 10_000;
/**
 * How long a key keeps its place once its value has expired or been deleted, and after each
 * `get` of it: long enough for a room's next request to take the place back.
 */
export const KEEP_PLACE_MS = 30_000;

export interface MemoryTokenStoreOptions {
  /**
   * The most keys (rooms) kept at once. When every place is taken, a new key is refused with a
   * `TokenStoreFullError` (the handler answers 503 `too-many-rooms`): a room in use is never
   * pushed out for a new one. @defaultValue 10_000
   */
  maxEntries?: number;
}

interface Place {
  /** Undefined once expired or deleted: the place is then only held for the same key. */
  value: string | undefined;
  expiresAt: number;
  /** When the place is free for another key. */
  keepUntil: number;
}

/**
 * A `TokenStore` in this process's memory, the handler's default. Bounded, so a flood of
 * made-up room names cannot exhaust memory, and it never drops a room in use to make space:
 * - a value lives for its `ttlMs`;
 * - its key then keeps its place for another 30 s (`KEEP_PLACE_MS`), and for 30 s after any
 *   `get` of it, so a room whose token has just rotated gets its next one even in a full store;
 * - when every place is taken, `setIfAbsent` of a new key throws `TokenStoreFullError`.
 *
 * Expired places go when next touched, and a full store looks for them at most once per expiry,
 * without a timer, so the store never keeps a process alive.
 *
 * @example
 * ```ts
 * const handler = createCasTokenHandler({ ...cas, store: createMemoryTokenStore({ maxEntries: 1_000 }) });
 * ```
 */
export function createMemoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ROOMS;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new CasTokenError('invalid-config', `\`maxEntries\` must be a whole number above 0; got ${String(maxEntries)}.`);
  }
  const places = new Map<string, Place>();
  // No place frees before this: a lower bound of every keepUntil, so a full store refuses a
  // flood of new keys in O(1) and sweeps only once something can have expired.
  let nextFree = Number.POSITIVE_INFINITY;

  function keepUntil(place: Place, at: number): void {
    place.keepUntil = at;
    nextFree = Math.min(nextFree, at);
  }

  /** The key's place, unless it has run out (then it is removed). */
  function placeOf(key: string, now: number): Place | undefined {
    const place = places.get(key);
    if (place === undefined || place.keepUntil > now) return place;
    places.delete(key);
    return undefined;
  }

  function isLive(place: Place | undefined, now: number): place is Place & { value: string } {
    return place !== undefined && place.value !== undefined && place.expiresAt > now;
  }

  function hasRoom(now: number): boolean {
    if (places.size < maxEntries) return true;
    if (now < nextFree) return false;
    nextFree = Number.POSITIVE_INFINITY;
    for (const [key, place] of places) {
      if (place.keepUntil <= now) places.delete(key);
      else nextFree = Math.min(nextFree, place.keepUntil);
    }
    return places.size < maxEntries;
  }

  return {
    get(key) {
      const now = Date.now();
      const place = placeOf(key, now);
      if (place === undefined) return undefined;
      if (isLive(place, now)) return place.value;
      // Asked for after it expired: the room is in use, so it keeps its place a while longer.
      place.value = undefined;
      place.keepUntil = Math.max(place.keepUntil, now + KEEP_PLACE_MS);
      return undefined;
    },
    setIfAbsent(key, value, ttlMs) {
      if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new RangeError(`setIfAbsent needs a ttlMs above 0; got ${String(ttlMs)}.`);
      }
      const now = Date.now();
      let place = placeOf(key, now);
      if (isLive(place, now)) return false;
      if (place === undefined) {
        if (!hasRoom(now)) {
          throw new TokenStoreFullError(
            `The in-memory token store holds its most rooms (maxEntries: ${maxEntries}); a new room gets a place when one frees.`,
            Math.max(0, nextFree - now),
          );
        }
        place = { value, expiresAt: 0, keepUntil: 0 };
        places.set(key, place);
      }
      place.value = value;
      place.expiresAt = now + ttlMs;
      keepUntil(place, place.expiresAt + KEEP_PLACE_MS);
      return true;
    },
    deleteIfEqual(key, value) {
      const now = Date.now();
      const place = placeOf(key, now);
      if (place === undefined || !isLive(place, now) || place.value !== value) return false;
      (place as Place).value = undefined;
      keepUntil(place, now + KEEP_PLACE_MS);
      return true;
    },
    extendIfEqual(key, value, ttlMs) {
      const now = Date.now();
      const place = placeOf(key, now);
      if (!isLive(place, now) || place.value !== value) return false;
      place.expiresAt = now + ttlMs;
      keepUntil(place, Math.max(place.keepUntil, place.expiresAt + KEEP_PLACE_MS));
      return true;
    },
  };
}
