/**
 * Where the handler keeps each room's token between requests. Three operations are all a shared
 * store needs, so several server processes hand out one token per room: with Redis, `get` is
 * `GET key`, `setIfAbsent` is `SET key value NX PX ttlMs`, and `deleteIfEqual` is a
 * compare-and-delete script (`if GET key == value then DEL key`).
 *
 * Values are opaque strings written by the handler; keys are room names.
 * `createRedisTokenStore` is this for node-redis, ioredis and Upstash; the example shows the shape
 * of one written by hand.
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
 *   deleteIfEqual: async (room, value) =>
 *     (await redis.eval(
 *       "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
 *       { keys: [`cas-token:${room}`], arguments: [value] },
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
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> | boolean;
  /**
   * Removes `key` only while it still holds `value` (compare-and-delete), so a process never
   * deletes what another one wrote since. Resolves true when it removed it.
   */
  deleteIfEqual(key: string, value: string): Promise<boolean> | boolean;
}
