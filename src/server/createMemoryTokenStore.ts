import { CasTokenError } from '../core/CasTokenError.js';
import type { TokenStore } from './TokenStore.js';

/** How many rooms the in-memory store keeps unless told otherwise. */
export const DEFAULT_MAX_ROOMS = 10_000;

export interface MemoryTokenStoreOptions {
  /** The most rooms kept at once; storing one more evicts the oldest. @defaultValue 10_000 */
  maxEntries?: number;
}

/**
 * A `TokenStore` in this process's memory, the handler's default. Bounded, so a flood of
 * made-up room names cannot exhaust memory: entries expire with their tokens, and past
 * `maxEntries` the oldest is evicted. Expired entries go when next touched, without a timer,
 * so the store never keeps a process alive.
 *
 * @example
 * ```ts
 * const handler = createCasTokenHandler({ ...cas, store: createMemoryTokenStore({ maxEntries: 1_000 }) });
 * ```
 */
export function createMemoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ROOMS;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new CasTokenError('invalid-config', `\`maxEntries\` must be a whole number above 0; got ${String(maxEntries)}.`);
  }
  // A Map iterates in insertion order, so its first entry is the oldest.
  const entries = new Map<string, { value: string; expiresAt: number }>();

  function live(key: string, now: number) {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  return {
    get(key) {
      return live(key, Date.now())?.value;
    },
    setIfAbsent(key, value, ttlMs) {
      const now = Date.now();
      if (live(key, now) !== undefined) return false;
      if (entries.size >= maxEntries) {
        // Full: expired rooms go first, then the oldest live ones.
        for (const [oldKey, entry] of entries) if (entry.expiresAt <= now) entries.delete(oldKey);
        for (const oldKey of entries.keys()) {
          if (entries.size < maxEntries) break;
          entries.delete(oldKey);
        }
      }
      entries.set(key, { value, expiresAt: now + ttlMs });
      return true;
    },
    deleteIfEqual(key, value) {
      if (live(key, Date.now())?.value !== value) return false;
      entries.delete(key);
      return true;
    },
  };
}
