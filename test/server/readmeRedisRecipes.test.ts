// @vitest-environment node
/*
 * The Redis recipes, run as printed: test/readme/casTokenStore.<client>.ts must be the printed
 * block byte for byte (so `npm run typecheck` and lint cover the printed code too), and
 * two instances of each, sharing one real redis-server, hand out one token per room.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { casTokenHandlerFromEnv, createMemoryTokenStore, type TokenStore } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, captureLogger, startCas, tokenRequest } from './casTestKit';
import { RECIPES, type Recipe, type RecipeName } from './redisRecipesKit';
import { connectInspector } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../support/upstashBridge';
import { recipe } from '../support/recipes';


const NAMES: RecipeName[] = ['node-redis', 'ioredis', 'upstash'];

/** The recipe as printed, in the README or a docs page. */
const printed = (name: string): string => recipe(name).code;

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;
let inspector: Awaited<ReturnType<typeof connectInspector>>;

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  // Slow enough that both instances miss the store and race to fill it.
  cas = await startCas({ latencyMs: 50, lifetimeMs: 3_600_000 });
  inspector = await connectInspector(redis.url);
  vi.stubEnv('REDIS_URL', redis.url);
  vi.stubEnv('UPSTASH_REDIS_REST_URL', bridge.url);
  vi.stubEnv('UPSTASH_REDIS_REST_TOKEN', bridge.token);
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  vi.unstubAllEnvs();
  inspector?.destroy();
  await cas?.close();
  await bridge?.close();
  await redis?.close();
});

function instance(store: TokenStore) {
  return casTokenHandlerFromEnv({
    env: { CAS_URL: cas.url, CAS_API_KEY: API_KEY, CAS_API_SECRET: API_SECRET },
    authorize: () => true,
    store,
    logger: captureLogger(),
  });
}

/** 20 concurrent requests for each room, alternating between the instances: the tokens each room got. */
async function tokensByRoom(instances: ReturnType<typeof instance>[], rooms: string[]): Promise<Record<string, string[]>> {
  const answers = await Promise.all(
    Array.from({ length: 20 * rooms.length }, async (_, i) => {
      const room = rooms[i % rooms.length]!;
      const response = await instances[i % instances.length]!(tokenRequest(room));
      expect(response.status).toBe(200);
      return { room, token: ((await response.json()) as { token: string }).token };
    }),
  );
  const byRoom: Record<string, string[]> = {};
  for (const { room, token } of answers) (byRoom[room] ??= []).push(token);
  return byRoom;
}

const distinct = (values: string[]) => new Set(values).size;

describe('the Redis recipes (docs/redis.md)', () => {
  it.each(NAMES)('prints the %s recipe exactly as its file in test/readme', (name) => {
    expect(printed(name)).toBe(readFileSync(`${import.meta.dirname}/../readme/casTokenStore.${name}.ts`, 'utf8'));
  });

  it.each(NAMES)('%s: two instances of the recipe share one token per room', async (name) => {
    const recipe = RECIPES[name];
    const loaded: Recipe[] = [];
    try {
      for (const _ of [1, 2]) {
        // A fresh module each time, as each server process or serverless instance loads its own.
        vi.resetModules();
        loaded.push(await recipe.load());
      }
      expect(loaded[0]!.redis).not.toBe(loaded[1]!.redis);
      const rooms = [`movie-night-${name}`, `book-club-${name}`];
      const byRoom = await tokensByRoom(loaded.map(({ casTokenStore }) => instance(casTokenStore)), rooms);
      for (const room of rooms) {
        expect(distinct(byRoom[room]!)).toBe(1);
        expect(await inspector.get(`cas-token:room:${room}`)).toContain(byRoom[room]![0]);
      }
      expect(byRoom[rooms[0]!]![0]).not.toBe(byRoom[rooms[1]!]![0]);
    } finally {
      for (const { redis: client } of loaded) await recipe.close(client);
    }
  });

  it('is needed: two instances with their own memory stores hand out two tokens for one room', async () => {
    const byRoom = await tokensByRoom([instance(createMemoryTokenStore()), instance(createMemoryTokenStore())], ['movie-night-memory']);
    expect(distinct(byRoom['movie-night-memory']!)).toBe(2);
  });
});
