// @vitest-environment node
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from 'redis';
import { Redis as IoRedis } from 'ioredis';
import {
  createMemoryTokenStore,
  createRedisTokenStore,
  type IoRedisClientLike,
  type NodeRedisClientLike,
  type RedisTokenStoreClient,
} from 'react-cas-token/server';
import { redisClients } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';

const PASSWORD = 'hunter2-do-not-leak';
const TOKEN_ENTRY = '{"token":"eyJhbGciOiJIUzI1NiJ9.eyJyaWQiOiJzZWNyZXQtcm9vbSJ9.do-not-leak","expiresAt":1893456000000}';

/** A client of node-redis's shape whose every command does `fail` (or answers `reply`). */
function nodeRedisShaped(behaviour: { fail?: () => Error; reply?: unknown }): NodeRedisClientLike {
  const answer = () => (behaviour.fail ? Promise.reject(behaviour.fail()) : Promise.resolve(behaviour.reply));
  return { isOpen: true, sendCommand: () => undefined, get: answer, set: answer, eval: answer };
}

/** The error `operation` rejects with; fails the test when it resolves. */
async function rejection(operation: () => unknown): Promise<Error> {
  try {
    await operation();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('createRedisTokenStore: which client it was given', () => {
  it.each([
    ['null', null, 'got null'],
    ['a connection URL', 'redis://localhost:6379', 'got a string'],
    ['the promise connect() returns', Promise.resolve({}), 'got a Promise: await it first'],
    ['a Map', new Map(), 'got a Map'],
    ['a memory store', createMemoryTokenStore(), 'got an object without the methods of one of them'],
    ['an object with get and set only', { get: () => null, set: () => 'OK' }, 'got an object without the methods of one of them'],
  ])('throws invalid-config for %s, naming the three clients it takes', (_label, value, got) => {
    const attempt = () => createRedisTokenStore(value as unknown as RedisTokenStoreClient);
    expect(attempt).toThrow(expect.objectContaining({ name: 'CasTokenError', code: 'invalid-config' }));
    expect(attempt).toThrow(/node-redis client \(`createClient\(\)` of the `redis` package\), an ioredis client \(`new Redis\(\)` of `ioredis`\) or an Upstash client \(`new Redis\(\)` of `@upstash\/redis`\)/);
    expect(attempt).toThrow(got);
  });

  it('throws invalid-config for a prefix that is not a string', () => {
    const client = nodeRedisShaped({ reply: null });
    expect(() => createRedisTokenStore(client, { prefix: 42 as unknown as string })).toThrow(
      expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining('`prefix` must be a string') }),
    );
  });

  it('takes clients that are not connected yet, and sends nothing while being created', () => {
    const nodeRedis = createClient({ url: 'redis://127.0.0.1:1' });
    const ioredis = new IoRedis({ port: 1, lazyConnect: true });
    expect(() => [createRedisTokenStore(nodeRedis), createRedisTokenStore(ioredis)]).not.toThrow();
    expect([nodeRedis.isOpen, ioredis.status]).toEqual([false, 'wait']);
  });
});

describe('createRedisTokenStore: arguments and replies it refuses', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'rejects setIfAbsent with invalid-config for ttlMs %d, without sending anything',
    async (ttlMs) => {
      const client = nodeRedisShaped({ reply: 'OK' });
      const set = vi.spyOn(client, 'set');
      await expect(createRedisTokenStore(client).setIfAbsent('room-1', 'value', ttlMs)).rejects.toMatchObject({
        code: 'invalid-config',
        message: `\`ttlMs\` must be a whole number of ms above 0; got ${String(ttlMs)}.`,
      });
      expect(set).not.toHaveBeenCalled();
    },
  );

  it.each([
    ['get', (store: ReturnType<typeof createRedisTokenStore>) => store.get('room-1'), 42, 'answered GET cas-token:room-1 with number; expected a string or null'],
    ['setIfAbsent', (store: ReturnType<typeof createRedisTokenStore>) => store.setIfAbsent('room-1', 'v', 1_000), 'QUEUED', "with a string; expected 'OK' or null"],
    ['deleteIfEqual', (store: ReturnType<typeof createRedisTokenStore>) => store.deleteIfEqual('room-1', 'v'), '1', 'with a string; expected 1 or 0'],
  ])('rejects %s with invalid-response when the reply is not what the command returns', async (_name, operation, reply, message) => {
    const store = createRedisTokenStore(nodeRedisShaped({ reply }));
    await expect(operation(store)).rejects.toMatchObject({ code: 'invalid-response', message: expect.stringContaining(message) });
  });
});

describe('createRedisTokenStore: errors', () => {
  it('turns a client error into a network CasTokenError naming the client, the command and the key, and keeps no cause', async () => {
    const store = createRedisTokenStore(nodeRedisShaped({ fail: () => new Error('connect ECONNREFUSED 127.0.0.1:6379') }), { prefix: 'app:' });
    const error = await rejection(() => store.get('room-1'));
    expect(error).toMatchObject({
      name: 'CasTokenError',
      code: 'network',
      message: 'Redis (node-redis) failed on GET app:room-1: Error: connect ECONNREFUSED 127.0.0.1:6379',
    });
    expect(error.cause).toBeUndefined();
  });

  it('never quotes the password, URL credentials, a bearer token or the value written, whatever the client error says', async () => {
    // As Upstash's client does, this one quotes the command it failed on, arguments included.
    const leaky = (...command: unknown[]) =>
      Promise.reject(new Error(`cannot reach redis://default:${PASSWORD}@cache.internal:6379 (auth ${PASSWORD}, Bearer up-token-123), command was: ${JSON.stringify(command)}`));
    const loud = (...command: unknown[]) => Promise.reject(new Error(`failed: ${command.map(String).join(' ')} / ${JSON.stringify(command)}`));
    const client = (fail: typeof leaky): IoRedisClientLike & { options: { password: string } } => ({
      status: 'ready',
      defineCommand: () => undefined,
      options: { password: PASSWORD },
      get: fail,
      set: fail,
      eval: fail,
    });
    const errors: Error[] = [];
    for (const fail of [leaky, loud]) {
      const store = createRedisTokenStore(client(fail));
      errors.push(
        await rejection(() => store.get('room-1')),
        await rejection(() => store.setIfAbsent('room-1', TOKEN_ENTRY, 1_000)),
        await rejection(() => store.deleteIfEqual('room-1', TOKEN_ENTRY)),
      );
    }
    expect(errors[0]!.message).toBe(
      'Redis (ioredis) failed on GET cas-token:room-1: Error: cannot reach redis://***@cache.internal:6379 (auth ***, Bearer ***',
    );
    expect(errors[4]!.message).toMatch(/^Redis \(ioredis\) failed on SET NX PX cas-token:room-1: Error: failed: cas-token:room-1 \*\*\* PX 1000 NX/);
    for (const error of errors) {
      expect(error).toMatchObject({ code: 'network' });
      expect(error.message).not.toContain(PASSWORD);
      expect(error.message).not.toContain('up-token-123');
      expect(error.message).not.toContain('do-not-leak');
    }
  });

  it('says to connect a node-redis client that is not connected', async () => {
    const store = createRedisTokenStore(createClient({ url: 'redis://127.0.0.1:1' }));
    await expect(store.get('room-1')).rejects.toMatchObject({
      code: 'network',
      message: expect.stringContaining('The client is closed (call `await client.connect()` before using the store)'),
    });
  });
});

describe('createRedisTokenStore: a Redis with a password', () => {
  let redis: RedisServer;
  const clients = redisClients();

  beforeAll(async () => {
    redis = await startRedisServer({ password: PASSWORD });
  }, REDIS_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await clients.closeAll();
    await redis?.close();
  });

  it('works with the password in the URL', async () => {
    const store = createRedisTokenStore(await clients.ioRedis(6, redis.url));
    const room = randomUUID();
    expect(await store.setIfAbsent(room, 'value', 60_000)).toBe(true);
    expect(await store.get(room)).toBe('value');
  });

  it("reports a wrong password as Redis's own WRONGPASS, without the password", async () => {
    const wrong = 'wrong-password-do-not-leak';
    const client = new IoRedis(redis.url.replace(PASSWORD, wrong), { maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    const error = await rejection(() => createRedisTokenStore(client).get('room-1'));
    client.disconnect();
    expect(error).toMatchObject({ code: 'network', message: expect.stringMatching(/^Redis \(ioredis\) failed on GET cas-token:room-1: .*WRONGPASS/) });
    expect(error.message).not.toContain(wrong);
  });
});
