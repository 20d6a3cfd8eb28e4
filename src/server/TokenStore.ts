/**
 * Where the handler keeps each room's token between requests. Two operations are all a shared
 * store needs, so several server processes hand out one token per room: with Redis,
 * `get` is `GET key` and `setIfAbsent` is `SET key value NX PX ttlMs`.
 *
 * Values are opaque strings written by the handler; keys are room names.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store: TokenStore = {
 *   get: (room) => redis.get(`cas-token:${room}`),
 *   setIfAbsent: async (room, value, ttlMs) =>
 *     (await redis.set(`cas-token:${room}`, value, { NX: true, PX: ttlMs })) === 'OK',
 * };
 * ```
 */
export interface TokenStore {
  /** The value stored for `key`, or null/undefined when there is none or it has expired. */
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  /**
   * Stores `value` for `ttlMs` ms unless `key` already holds an unexpired value.
   * Resolves true when this call stored it, false when another value was there first.
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> | boolean;
}
