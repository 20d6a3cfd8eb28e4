// lib/casTokenStore.ts: one client per server process
import { createClient } from 'redis';
import { createRedisTokenStore } from 'react-cas-token/server';

export const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
// An 'error' event that nobody listens to ends the process.
redis.on('error', (error) => console.error('[redis]', error.message));
await redis.connect();

export const casTokenStore = createRedisTokenStore(redis);
