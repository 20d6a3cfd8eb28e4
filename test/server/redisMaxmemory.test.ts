// @vitest-environment node
/*
 * A Redis that fills up (`maxmemory`) while a party is on: a flood of new room names through the
 * real handler, with one room in use all along, on a real redis-server set to a small
 * `maxmemory` and each `maxmemory-policy`.
 *
 * - `noeviction` (what a deployment should run): Redis refuses the writes that would need more
 *   memory with an OOM error. The room in use keeps its token, and the new rooms Redis has no
 *   place for answer 503 `too-many-rooms` without a CAS call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
