// lib/casTokenStore.ts: one client per server process
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { createRedisTokenStore } from 'react-cas-token/server';

export const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
// An 'error' event that nobody listens to ends the process.
redis.on('error', (error) => console.error('[redis]', error.message));
// connect() waits until Redis answers, however long. Wait 2 s at most: with Redis down, the
// route still loads, answers 503 until the client connects, then serves tokens.
await Promise.race([redis.connect(), sleep(2_000)]);

export const casTokenStore = createRedisTokenStore(redis);
