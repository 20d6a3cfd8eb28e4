/**
 * Where the handler keeps each room's token between requests. Three operations are all a shared
 * store needs, so several server processes hand out one token per room: with Redis, `get` is
 * `GET key`, `setIfAbsent` is `SET key value NX PX ttlMs`, and `deleteIfEqual` is a
 * compare-and-delete script (`if GET key == value then DEL key`). Two optional ones, `now` and
 * `extendIfEqual`, make it proof against servers' clocks and quick to recover from a dead server.
 *
 * Keys and values are opaque strings chosen by the handler (one key per room); a shared store
 * may add a prefix of its own. Every call is bounded by the handler's `storeTimeoutMs`: a store
 * that does not answer in time makes the request answer 503 `store-unavailable`.
 * `createRedisTokenStore` is this for node-redis, ioredis and Upstash; the example shows the shape
 * of one written by hand.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store: TokenStore = {
 *   get: (key) => redis.get(`cas-token:${key}`),
 *   setIfAbsent: async (key, value, ttlMs) =>
 *     (await redis.set(`cas-token:${key}`, value, { NX: true, PX: ttlMs })) === 'OK',
 *   deleteIfEqual: async (key, value) =>
 *     (await redis.eval(
 *       "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
 *       { keys: [`cas-token:${key}`], arguments: [value] },
 *     )) === 1,
 * };
 * ```
 */
export interface TokenStore {
  /** The value stored for `key`, or null/undefined when there is none or it has expired. */
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  /**
   * Stores `value` for `ttlMs` ms unless `key` already holds an unexpired value.
   * Resolves true when this call stored it, false when another value was there first.
   * A store with no room for another key throws (or rejects with) a `TokenStoreFullError`.
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> | boolean;
  /**
   * Removes `key` only while it still holds `value` (compare-and-delete), so a process never
   * deletes what another one wrote since. Resolves true when it removed it.
   */
  deleteIfEqual(key: string, value: string): Promise<boolean> | boolean;
  /**
   * Optional: the store's own clock, in epoch ms (Redis: `TIME`). Every server sharing the store
   * then reads the times it stores on this one clock, so a server whose clock is minutes off
   * neither takes another's token or lock for stale nor hands out its own too long. Without it,
   * each server uses its own clock.
   */
  now?(): Promise<number> | number;
  /**
   * Optional: sets `key`'s time to live to `ttlMs` only while it still holds `value` (Redis:
   * compare-and-`PEXPIRE`). Resolves true when it did. With it, the server fetching a room's token
   * holds the room's lock on a lease of a few seconds that it renews while CAS answers, so a
   * server that dies mid-call holds the room for seconds, not for the whole operation's budget.
   */
  extendIfEqual?(key: string, value: string, ttlMs: number): Promise<boolean> | boolean;
  /**
   * Optional: looks at the store's own settings for what would break one token per room (a
   * Redis that drops keys when it is full), and resolves to what to warn about, one line each
   * (none when all is well). A check the store refuses (no permission) resolves to a line saying
   * what could not be checked. The handler calls it in the background when a request first uses
   * the store (no request waits for it), gives it twice `storeTimeoutMs`, and logs each line once
   * with `logger.warn`. When it rejects or runs out of time (the store cannot be reached), the
   * handler asks again at a later request, at most once a minute.
   */
  checkSettings?(): Promise<readonly string[]>;
}

/**
 * Thrown by a bounded store's `setIfAbsent` when it has no room for another key. The handler
 * answers 503 `too-many-rooms` with a `Retry-After` of `retryAfterMs`, and calls no CAS: a
 * full store refuses new rooms rather than push out a room in use.
 *
 * @example
 * ```ts
 * if (full) throw new TokenStoreFullError('Redis is out of memory.', 60_000);
 * ```
 */
export class TokenStoreFullError extends Error {
  override readonly name = 'TokenStoreFullError';
  /** When a place may be free again, in ms, if the store knows. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** True for a `TokenStoreFullError`, also one thrown by another copy of this package. */
export function isTokenStoreFullError(value: unknown): value is TokenStoreFullError {
  return value instanceof Error && value.name === 'TokenStoreFullError';
}
