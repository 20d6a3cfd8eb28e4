// lib/casTokenStore.ts: one client per server process
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createRedisTokenStore } from 'react-cas-token/server';

export const redis = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379', {
  enableOfflineQueue: false,
  lazyConnect: true,
});
redis.on('error', (error) => console.error('[redis]', error.message));
// Without the offline queue a command sent before the connection is up fails: connect first.
// With Redis down, connect() rejects (the listener above says why) and the client keeps trying:
// the route still loads, answers 503 until the client connects, then serves tokens.
await Promise.race([redis.connect().catch(() => {}), sleep(2_000)]);

export const casTokenStore = createRedisTokenStore(redis);
