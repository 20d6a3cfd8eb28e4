/*
 * The Redis recipes of docs/redis.md (test/readme/casTokenStore.<client>.ts, the printed blocks byte for
 * byte), as the tests load them: each module creates its own client when imported, so each says
 * how to close that client again.
 */
import type { createClient } from 'redis';
import type { Redis as IoRedis } from 'ioredis';
import type { TokenStore } from 'react-cas-token/server';

/** What a recipe module exports. */
export interface Recipe {
  redis: unknown;
  casTokenStore: TokenStore;
}

export const RECIPES = {
  'node-redis': {
    load: () => import('../readme/casTokenStore.node-redis') as Promise<Recipe>,
    close: (redis: unknown) => (redis as ReturnType<typeof createClient>).destroy(),
  },
  ioredis: {
    load: () => import('../readme/casTokenStore.ioredis') as Promise<Recipe>,
    close: (redis: unknown) => (redis as IoRedis).disconnect(),
  },
  upstash: {
    load: () => import('../readme/casTokenStore.upstash') as Promise<Recipe>,
    // A REST client: nothing stays open.
    close: () => undefined,
  },
};

export type RecipeName = keyof typeof RECIPES;
