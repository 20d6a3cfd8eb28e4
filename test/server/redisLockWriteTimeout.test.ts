// @vitest-environment node
/*
 * A lock write that Redis applies after the handler gave up on it. Redis paused for writes
 * (CLIENT PAUSE WRITE, as during a failover or a stalled fork) holds the `SET key lock NX PX`
 * past storeTimeoutMs: the request answers 503, and Redis runs the SET once the pause ends. A
 * client's offline queue does the same when Redis goes down with the SET queued. Left there,
 * that lock belongs to no request, and blocks the room until it runs out (timeoutMs +
 * 4 × storeTimeoutMs): every request for the room waits that long.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCasTokenHandler, createRedisTokenStore } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { connectInspector } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { captureLogger, credentials, startCas, tokenRequest } from './casTestKit';
import { connectClient, type ClientKind, type ClientOptions } from './redisInstancesKit';

const STORE_TIMEOUT_MS = 250;
/** A lock lives timeoutMs + 4 × storeTimeoutMs: 4 s here. */
const CAS_TIMEOUT_MS = 3_000;
const PAUSE_MS = 800;

let redis: RedisServer;
let cas: MockCas;
let inspector: Awaited<ReturnType<typeof connectInspector>>;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  cas = await startCas({ latencyMs: 20, lifetimeMs: 3_600_000 });
  inspector = await connectInspector(redis.url);
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  inspector?.destroy();
  await cas?.close();
  await redis?.close();
});


/** How many SET commands Redis has run so far. */
async function setsRun(): Promise<number> {
  return Number(/cmdstat_set:calls=(\d+)/.exec(await inspector.info('commandstats'))?.[1] ?? 0);
}

describe('a lock write that Redis applies after storeTimeoutMs', () => {
  it.each<[ClientKind, ClientOptions]>([
    ['node-redis 6', 'recommended'],
    ['node-redis 6', 'default'],
    ['ioredis 6', 'recommended'],
    ['ioredis 6', 'default'],
    ['node-redis 5 (RESP3)', 'recommended'],
    // Not Upstash: its reads are a script, which CLIENT PAUSE WRITE holds as well.
  ])('%s (%s options): leaves no lock behind, so the room is served as soon as Redis takes writes again', async (kind, clientOptions) => {
    const { client, close } = await connectClient(kind, { redisUrl: redis.url }, clientOptions);
    closers.push(close);
    const prefix = `lock-write-${randomUUID()}:`;
    const logger = captureLogger();
    const handler = createCasTokenHandler({
      ...credentials(cas),
      authorize: () => true,
      logger,
      timeoutMs: CAS_TIMEOUT_MS,
      storeTimeoutMs: STORE_TIMEOUT_MS,
      store: createRedisTokenStore(client, { prefix }),
    });
    const casBefore = cas.calls;
    const setsBefore = await setsRun();

    await inspector.sendCommand(['CLIENT', 'PAUSE', String(PAUSE_MS), 'WRITE']);
    const pausedAt = Date.now();
    const first = await handler(tokenRequest('movie-night'));
    expect(first.status).toBe(503);
    expect(((await first.json()) as { error: string }).error).toBe('store-unavailable');
    expect(cas.calls).toBe(casBefore);

    await sleep(pausedAt + PAUSE_MS + 150 - Date.now());
    expect(await setsRun()).toBe(setsBefore + 1); // the lock write reached Redis, and ran after the pause
    expect(await inspector.get(`${prefix}room:movie-night`)).toBeNull();
    const started = Date.now();
    const second = await handler(tokenRequest('movie-night'));
    expect(second.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cas.calls).toBe(casBefore + 1);
  }, 15_000);
});
