// @vitest-environment node
/*
 * A Redis that fills up (`maxmemory`) while a party is on: a flood of new room names through the
 * real handler, with one room in use all along, on a real redis-server set to a small
 * `maxmemory` and each `maxmemory-policy`.
 *
 * - `noeviction` (what a deployment should run): Redis refuses the writes that would need more
 *   memory with an OOM error. The room in use keeps its token, and the new rooms Redis has no
 *   place for answer 503 `too-many-rooms` without a CAS call.
 * - An evicting policy (`allkeys-*`, and `volatile-*` too: every key the handler writes has a
 *   TTL) makes room by dropping keys, the room in use among them: people joining it then get a
 *   new token, a second session. Nothing tells the handler, so it warns when it first uses the
 *   store, naming the policy and the fix.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis as IoRedis } from 'ioredis';
import { createClient } from 'redis';
import {
  createCasTokenHandler,
  createRedisTokenStore,
  isTokenStoreFullError,
  type CasTokenHandler,
  type RedisTokenStoreClient,
} from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { connectInspector } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../support/upstashBridge';
import { captureLogger, credentials, startCas, tokenRequest } from './casTestKit';
import { connectClient, type ClientKind } from './redisInstancesKit';

/** Memory Redis may use beyond what it uses when the test starts: room for a few hundred rooms. */
const HEADROOM_BYTES = 200_000;
/** New room names in the flood: well beyond what fits. */
const FLOOD_ROOMS = 800;
/** Flood requests in flight at once. */
const IN_FLIGHT = 16;
const LIVE_ROOM = 'movie-night';

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;
let inspector: Awaited<ReturnType<typeof connectInspector>>;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  // Hour-long tokens: no room rotates during a test.
  cas = await startCas({ lifetimeMs: 3_600_000 });
  inspector = await connectInspector(redis.url);
}, REDIS_SETUP_TIMEOUT_MS);

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await inspector.sendCommand(['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction']);
  await inspector.flushAll();
  await inspector.sendCommand(['CONFIG', 'RESETSTAT']);
});

afterAll(async () => {
  inspector?.destroy();
  await cas?.close();
  await bridge?.close();
  await redis?.close();
});

async function setPolicy(policy: string): Promise<void> {
  await inspector.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', policy]);
}

/** Lets Redis use HEADROOM_BYTES more than it uses now. */
async function limitMemory(): Promise<void> {
  const used = Number(/used_memory:(\d+)/.exec(await inspector.info('memory'))?.[1]);
  await inspector.sendCommand(['CONFIG', 'SET', 'maxmemory', String(used + HEADROOM_BYTES)]);
}

async function handlerOn(kind: ClientKind) {
  const { client, close } = await connectClient(kind, { redisUrl: redis.url, bridge }, 'recommended');
  closers.push(close);
  return handlerWith(client);
}

function handlerWith(client: RedisTokenStoreClient) {
  const logger = captureLogger();
  const handler = createCasTokenHandler({
    ...credentials(cas),
    authorize: () => true,
    logger,
    store: createRedisTokenStore(client, { prefix: `maxmemory-${randomUUID()}:` }),
  });
  return { handler, logger };
}

async function answer(handler: CasTokenHandler, room: string): Promise<{ status: number; token?: string; error?: string }> {
  const response = await handler(tokenRequest(room));
  const body = (await response.json()) as { token?: string; error?: string };
  return { status: response.status, ...body };
}

/** FLOOD_ROOMS new rooms, IN_FLIGHT at a time, while LIVE_ROOM is asked for every few ms. */
async function flood(handler: CasTokenHandler) {
  const answers = { ok: 0, tooManyRooms: 0, others: [] as string[] };
  const liveAnswers: string[] = [];
  let next = 0;
  let done = false;
  const live = (async () => {
    while (!done) {
      const { token, error } = await answer(handler, LIVE_ROOM);
      liveAnswers.push(token ?? `error ${error}`);
      await sleep(5);
    }
  })();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < FLOOD_ROOMS) {
        const { status, error } = await answer(handler, `flood-${next++}`);
        if (status === 200) answers.ok += 1;
        else if (error === 'too-many-rooms') answers.tooManyRooms += 1;
        else answers.others.push(`${status} ${error}`);
      }
    }),
  );
  done = true;
  await live;
  return { answers, liveTokens: new Set(liveAnswers) };
}

async function evictedKeys(): Promise<number> {
  return Number(/evicted_keys:(\d+)/.exec(await inspector.info('stats'))?.[1] ?? 0);
}

/** Resolves once `logger` holds a line, polling every 10 ms for at most `withinMs`. */
async function firstLine(logger: ReturnType<typeof captureLogger>, withinMs: number) {
  const since = Date.now();
  while (logger.lines.length === 0 && Date.now() - since < withinMs) await sleep(10);
  return logger.lines[0];
}

describe('a full Redis with maxmemory-policy noeviction', () => {
  it.for<ClientKind>(['node-redis 6', 'ioredis 6', 'upstash'])(
    '%s: the room in use keeps its token; new rooms with no place answer 503 too-many-rooms, and CAS is called only for rooms stored',
    { timeout: 60_000 },
    async (kind, { annotate }) => {
      const { handler, logger } = await handlerOn(kind);
      const first = await answer(handler, LIVE_ROOM);
      expect(first.status).toBe(200);
      await limitMemory();
      const casBefore = cas.calls;

      const { answers, liveTokens } = await flood(handler);

      expect(liveTokens).toEqual(new Set([first.token]));
      expect(answers.others).toEqual([]);
      expect(answers.tooManyRooms).toBeGreaterThan(0);
      expect(answers.ok).toBeGreaterThan(0);
      const casCalls = cas.calls - casBefore;
      const stored = (await inspector.dbSize()) - 1;
      expect(stored).toBe(answers.ok);
      expect(casCalls).toBe(stored);
      expect(logger.lines).toEqual([
        { level: 'warn', message: expect.stringContaining('New rooms are refused (503 too-many-rooms)') },
      ]);
      await annotate(
        `${kind}: ${answers.ok} rooms stored, ${answers.tooManyRooms} × too-many-rooms, ${casCalls} CAS calls (${(casCalls / stored).toFixed(3)} per stored room)`,
      );
    },
  );
});

describe('a Redis whose maxmemory-policy evicts', () => {
  it.for<[string, ClientKind]>([
    ['allkeys-lru', 'node-redis 6'],
    ['allkeys-lru', 'ioredis 6'],
    ['allkeys-lru', 'upstash'],
    ['volatile-lru', 'node-redis 6'],
    ['volatile-ttl', 'node-redis 6'],
    ['allkeys-random', 'node-redis 5 (RESP3)'],
  ])('%s (%s): the handler warns once, at its first request, naming the policy and the fix', { timeout: 60_000 }, async ([policy, kind], { annotate }) => {
    await setPolicy(policy);
    const { handler, logger } = await handlerOn(kind);
    const first = await answer(handler, LIVE_ROOM);
    expect(first.status).toBe(200);

    const warning = await firstLine(logger, 2_000);
    expect(warning).toEqual({ level: 'warn', message: expect.stringContaining(`maxmemory-policy is ${policy}`) });
    expect(warning?.message).toContain('maxmemory-policy noeviction');

    await limitMemory();
    const { answers, liveTokens } = await flood(handler);
    expect(logger.lines).toEqual([warning]);
    expect(answers.others).toEqual([]);
    await annotate(
      `${policy}, ${kind}: ${await evictedKeys()} keys evicted; the room in use had ${liveTokens.size} token(s) during the flood; ${answers.ok} new rooms served`,
    );
  });
});

describe('reading the policy where Redis refuses some commands (managed Redis, ACL users)', () => {
  /** A node-redis and an ioredis client logged in as a new user with `rules`. */
  async function clientsAs(rules: string[]): Promise<[string, RedisTokenStoreClient][]> {
    const user = `user-${randomUUID()}`;
    await inspector.sendCommand(['ACL', 'SETUSER', user, 'on', '>secret-pass', '~*', '&*', '+@all', ...rules]);
    closers.push(() => inspector.sendCommand(['ACL', 'DELUSER', user]));
    const url = `redis://${user}:secret-pass@127.0.0.1:${redis.port}`;
    const nodeRedis = createClient({ url, disableOfflineQueue: true });
    nodeRedis.on('error', () => {});
    await nodeRedis.connect();
    closers.push(() => nodeRedis.destroy());
    const ioRedis = new IoRedis(url, { lazyConnect: true, enableOfflineQueue: false });
    ioRedis.on('error', () => {});
    await ioRedis.connect();
    closers.push(() => ioRedis.disconnect());
    return [
      ['node-redis', nodeRedis],
      ['ioredis', ioRedis],
    ];
  }

  it('reads it from INFO memory when CONFIG is refused', async () => {
    await setPolicy('allkeys-lru');
    for (const [name, client] of await clientsAs(['-config'])) {
      const { handler, logger } = handlerWith(client);
      expect((await answer(handler, LIVE_ROOM)).status, name).toBe(200);
      expect(await firstLine(logger, 2_000), name).toEqual({
        level: 'warn',
        message: expect.stringContaining("Redis's maxmemory-policy is allkeys-lru"),
      });
    }
  });

  it('says once that it could not check when CONFIG and INFO are both refused, and the store serves tokens all the same', async () => {
    for (const [name, client] of await clientsAs(['-config', '-info'])) {
      const { handler, logger } = handlerWith(client);
      const answers = [await answer(handler, LIVE_ROOM), await answer(handler, 'another-room')];
      expect(answers.map(({ status }) => status), name).toEqual([200, 200]);
      const line = await firstLine(logger, 2_000);
      expect(line?.message, name).toMatch(/^\[react-cas-token\] Could not read Redis's maxmemory-policy \(CONFIG GET: NOPERM .*; INFO: NOPERM .*\)\. Make sure it is noeviction/);
      expect(line?.message).toContain('maxmemory-policy noeviction');
      expect(line?.message).not.toContain('secret-pass');
      await answer(handler, 'a-third-room');
      expect(logger.lines, name).toEqual([line]);
    }
  });
});

describe('createRedisTokenStore on a full Redis', () => {
  it.for<ClientKind>(['node-redis 6', 'ioredis 6', 'upstash', 'node-redis 5 (RESP3)'])(
    '%s: a write Redis refuses for want of memory rejects with TokenStoreFullError, naming the client and the key and not the value',
    async (kind) => {
      const { client, close } = await connectClient(kind, { redisUrl: redis.url, bridge }, 'recommended');
      closers.push(close);
      const store = createRedisTokenStore(client, { prefix: 'full:' });
      await inspector.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
      const error: unknown = await Promise.resolve(store.setIfAbsent('room:movie-night', '{"token":"value-not-to-quote"}', 60_000)).catch(
        (rejected: unknown) => rejected,
      );
      expect(isTokenStoreFullError(error)).toBe(true);
      expect((error as Error).message).toMatch(/^Redis \((node-redis|ioredis|upstash)\) is full: it refused SET NX PX full:room:movie-night/);
      expect((error as Error).message).not.toContain('value-not-to-quote');
      // Reading and compare-and-delete need no memory: a full Redis still answers them.
      expect(await store.get('room:movie-night')).toBeNull();
      expect(await store.deleteIfEqual('room:movie-night', '{}')).toBe(false);
    },
  );
});

describe('locks as long as entries', () => {
  it.for<ClientKind>(['node-redis 6', 'ioredis 6', 'upstash'])(
    '%s: a JSON value is padded with spaces to the longest one written, reads back as written, and compare-and-delete takes it as written',
    async (kind) => {
      const { client, close } = await connectClient(kind, { redisUrl: redis.url, bridge }, 'recommended');
      closers.push(close);
      const store = createRedisTokenStore(client, { prefix: 'pad:' });
      const entry = JSON.stringify({ token: `eyJhbGciOiJIUzI1NiJ9.${'x'.repeat(400)}.sig`, expiresAt: 1_893_456_000_000, rotateAt: 1_893_455_700_000 });
      const lock = JSON.stringify({ lock: randomUUID(), until: 1_893_456_000_000 });
      expect(await store.setIfAbsent('room:a', entry, 60_000)).toBe(true);
      expect(await store.setIfAbsent('room:b', lock, 60_000)).toBe(true);
      expect(await store.setIfAbsent('room:c', 'not json', 60_000)).toBe(true);

      expect(await inspector.strLen('pad:room:b')).toBe(entry.length);
      expect(await inspector.get('pad:room:c')).toBe('not json');
      expect([await store.get('room:a'), await store.get('room:b'), await store.get('room:c')]).toEqual([entry, lock, 'not json']);
      expect(await store.deleteIfEqual('room:b', `${lock.slice(0, -1)},"x":1}`)).toBe(false);
      expect(await store.deleteIfEqual('room:b', lock)).toBe(true);
      expect(await inspector.exists('pad:room:b')).toBe(0);
    },
  );
});
