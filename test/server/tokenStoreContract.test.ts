// @vitest-environment node
/*
 * What the handler relies on from any TokenStore, checked on the memory store and on
 * createRedisTokenStore with every supported client against one real redis-server (Upstash's
 * REST client through the local bridge). Keys are unique per test: every store shares the server.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTokenStore, createRedisTokenStore, type TokenStore } from 'react-cas-token/server';
import { CLIENT_NAMES, connectInspector, redisClients, type ClientName } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../support/upstashBridge';

let redis: RedisServer;
let bridge: UpstashBridge;
const clients = redisClients();
/** A plain client to look at what the stores wrote. */
let inspector: Awaited<ReturnType<typeof connectInspector>>;

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  inspector = await connectInspector(redis.url);
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  inspector?.destroy();
  await clients.closeAll();
  await bridge?.close();
  await redis?.close();
});

const room = () => `room-${randomUUID()}`;

/** Reads until the key is gone, every 10 ms, for at most `withinMs`; resolves to the ms it took. */
async function untilGone(store: TokenStore, key: string, since: number, withinMs: number): Promise<number> {
  for (;;) {
    if ((await store.get(key)) == null) return Date.now() - since;
    if (Date.now() - since > withinMs) throw new Error(`${key} was still there after ${withinMs} ms`);
    await sleep(10);
  }
}

const TOKEN_2KB = `eyJhbGciOiJIUzI1NiJ9.${'x'.repeat(2_000)}.c2lnbmF0dXJl`;
/** What the handler stores, and values a JSON-parsing client (Upstash's default) would change. */
const VALUES: [string, string][] = [
  ['the handler entry', '{"token":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4OTM0NTYwMDB9.sig","expiresAt":1893456000000}'],
  ['an entry without expiry', '{"token":"eyJ0eXAiOiJKV1QifQ.e30.sig","expiresAt":null}'],
  ['a 2 kB token', `{"token":"${TOKEN_2KB}","expiresAt":1893456000000}`],
  ['unicode', '{"room":"Filmabend 🎬 ünïcödé 房间","note":"\\u00e9 \\"quoted\\""}'],
  ['a number-like string', '123'],
  ['a float-like string', '1.0'],
  ['the string null', 'null'],
  ['the string true', 'true'],
  ['a JSON string', '"quoted"'],
  ['OK', 'OK'],
  ['a value starting with the GET marker', 'v:marked'],
  ['whitespace', ' \t\n '],
  ['the empty string', ''],
];

interface Subject {
  name: string;
  store: (prefix?: string) => Promise<TokenStore>;
}

const subjects: Subject[] = [
  { name: 'memory', store: async () => createMemoryTokenStore() },
  ...CLIENT_NAMES.map((name) => ({
    name: `redis, ${name}`,
    store: async (prefix?: string) => createRedisTokenStore(await clients.byName(name, redis.url, bridge), { prefix }),
  })),
];

describe.each(subjects)('TokenStore contract: $name', ({ store: makeStore }) => {
  let store: TokenStore;
  beforeAll(async () => {
    store = await makeStore();
  });

  it('stores a value only when the key holds none, and keeps the first', async () => {
    const key = room();
    expect(await store.get(key)).toBeFalsy();
    expect(await store.setIfAbsent(key, 'first', 60_000)).toBe(true);
    expect(await store.setIfAbsent(key, 'second', 60_000)).toBe(false);
    expect(await store.get(key)).toBe('first');
  });

  it('keeps a value for its time to live, then forgets it so the key can be set again', async () => {
    const key = room();
    const since = Date.now();
    expect(await store.setIfAbsent(key, 'first', 200)).toBe(true);
    expect(await store.get(key)).toBe('first');
    expect(await store.setIfAbsent(key, 'second', 200)).toBe(false);
    const goneAfter = await untilGone(store, key, since, 2_000);
    expect(goneAfter).toBeGreaterThanOrEqual(195);
    expect(await store.setIfAbsent(key, 'second', 60_000)).toBe(true);
    expect(await store.get(key)).toBe('second');
  });

  it('deletes a key only while it still holds the value the caller read', async () => {
    const key = room();
    await store.setIfAbsent(key, 'first', 60_000);
    expect(await store.deleteIfEqual(key, 'other')).toBe(false);
    expect(await store.deleteIfEqual(key, 'firs')).toBe(false);
    expect(await store.get(key)).toBe('first');
    expect(await store.deleteIfEqual(key, 'first')).toBe(true);
    expect(await store.get(key)).toBeFalsy();
    expect(await store.deleteIfEqual(key, 'first')).toBe(false);
    expect(await store.setIfAbsent(key, 'second', 60_000)).toBe(true);
  });

  it.each(VALUES)('gives back %s exactly as stored, and compares it exactly', async (_label, value) => {
    const key = room();
    expect(await store.setIfAbsent(key, value, 60_000)).toBe(true);
    expect(await store.get(key)).toBe(value);
    expect(await store.deleteIfEqual(key, `${value} `)).toBe(false);
    expect(await store.deleteIfEqual(key, value)).toBe(true);
  });

  it('lets exactly one of 100 concurrent setIfAbsent calls on a key win', async () => {
    const key = room();
    const wins = await Promise.all(Array.from({ length: 100 }, (_, i) => store.setIfAbsent(key, `value-${i}`, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await store.get(key)).toBe(`value-${wins.indexOf(true)}`);
  });
});

describe('createRedisTokenStore: every client on one Redis', () => {
  let stores: { name: ClientName; store: TokenStore }[];
  beforeAll(async () => {
    stores = await Promise.all(
      CLIENT_NAMES.map(async (name) => ({ name, store: createRedisTokenStore(await clients.byName(name, redis.url, bridge)) })),
    );
  });

  it('lets exactly one of 100 concurrent setIfAbsent calls from all the clients win, and every client reads the winner', async () => {
    const key = room();
    const attempts = Array.from({ length: 100 }, (_, i) => stores[i % stores.length]!);
    const wins = await Promise.all(attempts.map(({ name, store }, i) => store.setIfAbsent(key, `${name} #${i}`, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = `${attempts[wins.indexOf(true)]!.name} #${wins.indexOf(true)}`;
    expect(await Promise.all(stores.map(({ store }) => store.get(key)))).toEqual(stores.map(() => winner));
  });

  it.each(CLIENT_NAMES)('reads what %s wrote the same from every client, and lets any of them delete it', async (writer) => {
    const value = VALUES[0]![1];
    for (const reader of stores) {
      const key = room();
      const writing = stores.find(({ name }) => name === writer)!.store;
      expect(await writing.setIfAbsent(key, value, 60_000)).toBe(true);
      expect({ reader: reader.name, value: await reader.store.get(key) }).toEqual({ reader: reader.name, value });
      expect(await reader.store.deleteIfEqual(key, value)).toBe(true);
      expect(await writing.get(key)).toBeFalsy();
    }
  });

  it('keeps two prefixes on one server apart', async () => {
    const key = room();
    const appA = createRedisTokenStore(await clients.byName('ioredis 6', redis.url, bridge), { prefix: 'app-a:' });
    const appB = createRedisTokenStore(await clients.byName('upstash', redis.url, bridge), { prefix: 'app-b:' });
    expect(await appA.setIfAbsent(key, 'token-a', 60_000)).toBe(true);
    expect(await appB.get(key)).toBeFalsy();
    expect(await appB.setIfAbsent(key, 'token-b', 60_000)).toBe(true);
    expect(await appB.deleteIfEqual(key, 'token-a')).toBe(false);
    expect([await appA.get(key), await appB.get(key)]).toEqual(['token-a', 'token-b']);
    expect(await appA.deleteIfEqual(key, 'token-a')).toBe(true);
    expect(await appB.get(key)).toBe('token-b');
  });

  it("writes a room's value at cas-token:<room> by default, as a plain string with a millisecond expiry", async () => {
    const key = room();
    const { store } = stores.find(({ name }) => name === 'upstash')!;
    await store.setIfAbsent(key, VALUES[0]![1], 30_000);
    expect(await inspector.get(`cas-token:${key}`)).toBe(VALUES[0]![1]);
    expect(await inspector.type(`cas-token:${key}`)).toBe('string');
    const ttl = await inspector.pTTL(`cas-token:${key}`);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await inspector.exists(key)).toBe(0);
  });

  it('puts a custom prefix before the room as given, and an empty one leaves the room alone', async () => {
    const key = room();
    const client = await clients.byName('node-redis 6', redis.url, bridge);
    await createRedisTokenStore(client, { prefix: 'myapp:tokens:' }).setIfAbsent(key, 'a', 60_000);
    await createRedisTokenStore(client, { prefix: '' }).setIfAbsent(key, 'b', 60_000);
    expect([await inspector.get(`myapp:tokens:${key}`), await inspector.get(key)]).toEqual(['a', 'b']);
  });
});

describe('the Upstash REST bridge these tests use', () => {
  it('serves the real client as Upstash does: auto-pipelined commands, single ones, base64 answers, the bearer token', async () => {
    const key = room();
    const before = { ...bridge.requests };
    await createRedisTokenStore(await clients.byName('upstash', redis.url, bridge)).setIfAbsent(key, 'é', 60_000);
    await createRedisTokenStore(await clients.byName('upstash (raw)', redis.url, bridge)).get(key);
    expect(bridge.requests['/pipeline']).toBe((before['/pipeline'] ?? 0) + 1);
    expect(bridge.requests['/']).toBe((before['/'] ?? 0) + 1);

    const answer = await fetch(bridge.url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bridge.token}`, 'Upstash-Encoding': 'base64' },
      body: JSON.stringify(['get', `cas-token:${key}`]),
    });
    expect(await answer.json()).toEqual({ result: Buffer.from('é').toString('base64') });

    const intruder = createRedisTokenStore(clients.upstash(bridge, { token: 'wrong-token' }));
    await expect(intruder.get(key)).rejects.toMatchObject({ code: 'network', message: expect.stringContaining('Unauthorized') });
  });
});
