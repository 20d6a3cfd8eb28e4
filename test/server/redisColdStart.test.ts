// @vitest-environment node
/*
 * Redis down when the server starts: the Redis recipes of docs/redis.md (test/readme/casTokenStore.<client>.ts,
 * the printed blocks byte for byte) must still load, answer 503 while Redis is away, and serve
 * tokens once it answers, with the same client: no restart. Awaiting connect() alone does not:
 * node-redis's connect() waits until Redis answers, ioredis's rejects at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis as IoRedis } from 'ioredis';
import { createClient } from 'redis';
import { casTokenHandlerFromEnv } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { API_KEY, API_SECRET, captureLogger, startCas, tokenRequest } from './casTestKit';
import { RECIPES, type Recipe, type RecipeName } from './redisRecipesKit';

/** How long the recipes wait for Redis at start. */
const RECIPE_WAIT_MS = 2_000;
/** node-redis and ioredis retry every 2 s at most. */
const RECOVERS_WITHIN_MS = 10_000;

/** The recipes whose client connects at start; Upstash's REST client connects per request. */
const NAMES: RecipeName[] = ['node-redis', 'ioredis'];

let redis: RedisServer;
let cas: MockCas;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  // Started once for a port of its own, then stopped: Redis is down when each recipe loads.
  redis = await startRedisServer();
  await redis.stop();
  cas = await startCas({ lifetimeMs: 3_600_000 });
}, REDIS_SETUP_TIMEOUT_MS);

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const close of closers.splice(0)) await close();
  await redis.stop();
});

afterAll(async () => {
  await cas?.close();
  await redis?.close();
});


/** How `promise` settles within `ms`: its value, its error, or 'pending'. */
async function within<T>(promise: Promise<T>, ms: number) {
  return Promise.race([
    promise.then(
      (value) => ({ state: 'resolved' as const, value }),
      (error: unknown) => ({ state: 'rejected' as const, error }),
    ),
    sleep(ms).then(() => ({ state: 'pending' as const })),
  ]);
}

describe('the Redis recipes, with Redis down when the server starts', () => {
  it.for(NAMES)(
    '%s: the module loads after waiting for Redis 2 s at most, requests answer 503 store-unavailable at once, and once Redis is up the same client serves tokens',
    { timeout: 20_000 },
    async (name, { annotate }) => {
      // The recipe's 'error' listener prints why Redis cannot be reached.
      const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
      vi.stubEnv('REDIS_URL', redis.url);
      vi.resetModules();
      const started = Date.now();
      const loading = RECIPES[name].load();
      const loaded = await within(loading, RECIPE_WAIT_MS + 2_000);
      if (loaded.state === 'resolved') closers.push(() => RECIPES[name].close(loaded.value.redis));
      else void loading.then(({ redis: client }) => RECIPES[name].close(client), () => {});
      expect(loaded.state).toBe('resolved');
      expect(Date.now() - started).toBeLessThan(RECIPE_WAIT_MS + 1_000); // the wait, and loading the module
      const loadMs = Date.now() - started;
      const { casTokenStore } = (loaded as { value: Recipe }).value;
      expect(printed).toHaveBeenCalledWith('[redis]', expect.stringContaining('ECONNREFUSED'));

      const logger = captureLogger();
      const handler = casTokenHandlerFromEnv({
        env: { CAS_URL: cas.url, CAS_API_KEY: API_KEY, CAS_API_SECRET: API_SECRET },
        authorize: () => true,
        store: casTokenStore,
        logger,
      });
      const asked = Date.now();
      const down = await handler(tokenRequest('movie-night'));
      expect(Date.now() - asked).toBeLessThan(500); // the client fails at once: no wait for storeTimeoutMs (1 s)
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('1');
      expect(((await down.json()) as { error: string }).error).toBe('store-unavailable');
      expect(logger.lines).toEqual([expect.objectContaining({ level: 'error', message: expect.stringContaining('503 store-unavailable') })]);

      const casBefore = cas.calls;
      await redis.start();
      const up = Date.now();
      let response = await handler(tokenRequest('movie-night'));
      while (response.status !== 200 && Date.now() - up < RECOVERS_WITHIN_MS) {
        await sleep(50);
        response = await handler(tokenRequest('movie-night'));
      }
      expect(response.status).toBe(200);
      expect(cas.calls).toBe(casBefore + 1);
      await annotate(`${name}: loaded in ${loadMs} ms with Redis down; served a token ${Date.now() - up} ms after Redis answered PING`);
    },
  );

  it('is needed: awaiting connect() alone, node-redis never loads while Redis is down, and ioredis fails to load', async () => {
    const nodeRedis = createClient({ url: redis.url, disableOfflineQueue: true });
    nodeRedis.on('error', () => {});
    closers.push(() => nodeRedis.destroy());
    const nodeRedisConnect = nodeRedis.connect();
    nodeRedisConnect.catch(() => {}); // rejected by destroy() at the end
    expect(await within(nodeRedisConnect, RECIPE_WAIT_MS + 500)).toEqual({ state: 'pending' });

    const ioRedis = new IoRedis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
    ioRedis.on('error', () => {});
    closers.push(() => ioRedis.disconnect());
    expect(await within(ioRedis.connect(), RECIPE_WAIT_MS + 500)).toMatchObject({ state: 'rejected' });
  }, 20_000);
});
