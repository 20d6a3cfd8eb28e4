// @vitest-environment node
/*
 * What a store does while Redis is down, and that the same store object works again once Redis
 * is back, without being recreated. The server restarts empty (no persistence), as a crashed
 * cache may. Every wait is bounded: calls must settle, and recovery must come, within the
 * limits below.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisTokenStore, type TokenStore } from 'react-cas-token/server';
import { redisClients } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../support/upstashBridge';

/** How soon a fast-failing client must reject while Redis is down. */
const FAILS_WITHIN_MS = 500;
/** How soon a store must work again once Redis answers (node-redis and ioredis back off to 2 s between attempts). */
const RECOVERS_WITHIN_MS = 10_000;
/** How long a queued call is watched to show it waits rather than fails. */
const WATCH_MS = 300;

let redis: RedisServer;
let bridge: UpstashBridge;
const clients = redisClients();

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
}, REDIS_SETUP_TIMEOUT_MS);

afterEach(async () => {
  // A failed test must not leave the next one without Redis or the bridge.
  await redis.start();
  await bridge.start();
  await bridge.untilConnected();
});

afterAll(async () => {
  await clients.closeAll();
  await bridge?.close();
  await redis?.close();
});


interface Settled {
  status: 'resolved' | 'rejected' | 'pending';
  value?: unknown;
  error?: { code?: string; message?: string };
  ms: number;
}

/** How `operation` settles within `withinMs`: pending if it has not by then. */
async function settle(operation: () => unknown, withinMs: number): Promise<Settled> {
  const started = Date.now();
  const outcome = Promise.resolve()
    .then(operation)
    .then(
      (value): Settled => ({ status: 'resolved', value, ms: Date.now() - started }),
      (error: { code?: string; message?: string }): Settled => ({ status: 'rejected', error, ms: Date.now() - started }),
    );
  return Promise.race([outcome, sleep(withinMs).then((): Settled => ({ status: 'pending', ms: withinMs }))]);
}

/** Tries `get` until it answers, every 20 ms; resolves to the ms it took. */
async function untilAnswering(store: TokenStore, key: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const attempt = await settle(() => store.get(key), 1_000);
    if (attempt.status === 'resolved') return Date.now() - started;
    if (Date.now() - started > RECOVERS_WITHIN_MS) throw new Error(`the store did not answer within ${RECOVERS_WITHIN_MS} ms of Redis restarting`);
    await sleep(20);
  }
}

/** While Redis (or the endpoint) is down, each operation fails fast with a network error naming the client; then the same store recovers. */
async function expectFailsFastThenRecovers(store: TokenStore, clientName: string, takeDown: () => Promise<void>, bringBack: () => Promise<void>) {
  const key = `room-${randomUUID()}`;
  const token = `token-${randomUUID()}`;
  const value = `{"token":"${token}","expiresAt":null}`;
  expect(await store.setIfAbsent(key, value, 60_000)).toBe(true);

  await takeDown();
  const during = [
    await settle(() => store.get(key), FAILS_WITHIN_MS),
    await settle(() => store.setIfAbsent(key, value, 60_000), FAILS_WITHIN_MS),
    await settle(() => store.deleteIfEqual(key, value), FAILS_WITHIN_MS),
  ];
  for (const outcome of during) {
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'network', message: expect.stringContaining(`Redis (${clientName}) failed on`) } });
    // Upstash's own error quotes the whole command, token included: the store's must not.
    expect(outcome.error?.message).not.toContain(token);
  }

  await bringBack();
  await untilAnswering(store, key);
  expect(await store.get(key)).toBeFalsy(); // Redis restarted empty
  expect(await store.setIfAbsent(key, value, 60_000)).toBe(true);
  expect(await store.get(key)).toBe(value);
  expect(await store.deleteIfEqual(key, value)).toBe(true);
}

describe('a Redis outage, with the client options docs/redis.md recommends', () => {
  it('node-redis with disableOfflineQueue: fails at once while Redis is down, and the same store works again once it is back', async () => {
    const store = createRedisTokenStore(await clients.nodeRedis(6, redis.url, { disableOfflineQueue: true }));
    await expectFailsFastThenRecovers(store, 'node-redis', () => redis.stop(), () => redis.start());
  }, 30_000);

  it('node-redis 4 with disableOfflineQueue: the same', async () => {
    const store = createRedisTokenStore(await clients.nodeRedis(4, redis.url, { disableOfflineQueue: true }));
    await expectFailsFastThenRecovers(store, 'node-redis', () => redis.stop(), () => redis.start());
  }, 30_000);

  it('ioredis with enableOfflineQueue false: fails at once while Redis is down, and the same store works again once it is back', async () => {
    const store = createRedisTokenStore(await clients.ioRedis(6, redis.url, { enableOfflineQueue: false }));
    await expectFailsFastThenRecovers(store, 'ioredis', () => redis.stop(), () => redis.start());
  }, 30_000);

  it('Upstash, Redis down behind the REST endpoint: fails at once (an error answer is not retried), without quoting the token, and recovers', async () => {
    const store = createRedisTokenStore(clients.upstash(bridge));
    await expectFailsFastThenRecovers(store, 'upstash', () => redis.stop(), () => redis.start());
  }, 30_000);

  it('Upstash with retry off, the REST endpoint unreachable: fails at once, and recovers when it answers again', async () => {
    const store = createRedisTokenStore(clients.upstash(bridge, { retry: false }));
    const restart = async () => {
      await bridge.start();
      await redis.start();
    };
    await expectFailsFastThenRecovers(store, 'upstash', async () => {
      await bridge.stop();
      await redis.stop(); // so the restarted service is empty, as the others are
    }, restart);
  }, 30_000);
});

describe('a Redis outage, with the clients left at their defaults', () => {
  it.each([
    ['node-redis', () => clients.nodeRedis(6, redis.url)],
    ['ioredis', () => clients.ioRedis(6, redis.url)],
  ])('%s queues calls while Redis is down: they wait, then complete once it is back', async (_name, connect) => {
    const store = createRedisTokenStore(await connect());
    const key = `room-${randomUUID()}`;
    await redis.stop();
    const started = Date.now();
    const write = Promise.resolve(store.setIfAbsent(key, 'queued', 60_000));
    const read = Promise.resolve(store.get(key));
    expect(await settle(() => write, WATCH_MS)).toMatchObject({ status: 'pending' });
    expect(await settle(() => read, 0)).toMatchObject({ status: 'pending' });

    await redis.start();
    expect(await settle(() => write, RECOVERS_WITHIN_MS)).toMatchObject({ status: 'resolved', value: true });
    expect(await settle(() => read, RECOVERS_WITHIN_MS)).toMatchObject({ status: 'resolved', value: 'queued' }); // sent in order, after the write
    expect(Date.now() - started).toBeGreaterThanOrEqual(WATCH_MS);
    expect(await store.get(key)).toBe('queued');
  }, 30_000);
});
