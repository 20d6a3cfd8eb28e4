// lib/casTokenStore.ts: Upstash over HTTPS, nothing to connect
import { Redis } from '@upstash/redis'; // '@upstash/redis/cloudflare' on Cloudflare Workers
import { createRedisTokenStore } from 'react-cas-token/server';

export const redis = Redis.fromEnv(); // UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN
export const casTokenStore = createRedisTokenStore(redis);
