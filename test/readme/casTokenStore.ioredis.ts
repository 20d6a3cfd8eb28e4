// lib/casTokenStore.ts: one client per server process
import { Redis } from 'ioredis';
import { createRedisTokenStore } from 'react-cas-token/server';

export const redis = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379', {
  enableOfflineQueue: false,
  lazyConnect: true,
});
redis.on('error', (error) => console.error('[redis]', error.message));
// Without the offline queue a command sent before the connection is up fails: connect first.
await redis.connect();

export const casTokenStore = createRedisTokenStore(redis);
