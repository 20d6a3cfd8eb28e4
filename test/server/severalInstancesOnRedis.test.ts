// @vitest-environment node
/*
 * Issue 10's proof across instances: 4 handler instances, each with its own Redis client
 * (node-redis 6, ioredis 6, Upstash through the local REST bridge, node-redis 5 on RESP3), on one
 * real redis-server and one prefix, each served over HTTP on 127.0.0.1, against a slow mock CAS.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MockCas } from '../../example/server/mockCas';
import { connectInspector } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../support/upstashBridge';
import { credentials, startCas } from './casTestKit';
import { ask, burst, CLIENT_KINDS, startMemoryInstances, startRedisInstances, tokensByRoom, type Instances } from './redisInstancesKit';

/** Slow enough that every instance misses the store and races for each room. */
const CAS_LATENCY_MS = 300;

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;
let inspector: Awaited<ReturnType<typeof connectInspector>>;
let instances: Instances | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  inspector = await connectInspector(redis.url);
}, REDIS_SETUP_TIMEOUT_MS);

afterEach(async () => {
  vi.useRealTimers();
  await instances?.close();
  instances = undefined;
  await cas?.close();
});

afterAll(async () => {
  inspector?.destroy();
  await bridge?.close();
  await redis?.close();
});

const sizes = (byRoom: Map<string, Set<string>>) => [...byRoom.values()].map((tokens) => tokens.size);

describe('4 instances, each with its own client, on one redis-server', () => {
  it('make 10 CAS calls for 400 concurrent requests over 10 rooms, and every instance hands out the one token Redis holds per room', async () => {
    cas = await startCas({ latencyMs: CAS_LATENCY_MS, lifetimeMs: 3_600_000 });
    const prefix = `several-${randomUUID()}:`;
    instances = await startRedisInstances({ redisUrl: redis.url, bridge, prefix, handler: credentials(cas) });
    expect(instances.all.map(({ name }) => name)).toEqual(CLIENT_KINDS);

    const answers = await burst(instances, 400, 10);

    expect(answers.filter(({ status }) => status !== 200)).toEqual([]);
    expect(cas.calls).toBe(10);
    const byRoom = tokensByRoom(answers);
    expect(byRoom.size).toBe(10);
    expect(sizes(byRoom)).toEqual(Array.from({ length: 10 }, () => 1));
    // Each room's token reached every instance's requests: no instance kept one of its own.
    for (const instance of instances.all) {
      expect(tokensByRoom(answers.filter((answer) => answer.instance === instance.name))).toEqual(byRoom);
      expect(instance.requests).toBe(100);
      expect(instance.lines).toEqual([]);
    }
    // Redis holds exactly one key per room, under the prefix, with that room's token, and no lock.
    expect((await inspector.keys(`${prefix}*`)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${prefix}room:room-${i}`).sort());
    for (const [room, tokens] of byRoom) {
      const stored = JSON.parse((await inspector.get(`${prefix}room:${room}`)) ?? 'null') as { token: string; rotateAt: number };
      expect(stored.token).toBe([...tokens][0]);
      const ttl = await inspector.pTTL(`${prefix}room:${room}`);
      // Kept until a second before the rotation, 55 minutes into the token's hour.
      expect(ttl).toBeGreaterThan(50 * 60_000);
      expect(ttl).toBeLessThanOrEqual(55 * 60_000);
    }
  }, 30_000);

  it('is needed: 4 instances with a memory store each split every room, calling CAS once per room per instance', async () => {
    cas = await startCas({ latencyMs: CAS_LATENCY_MS, lifetimeMs: 3_600_000 });
    instances = await startMemoryInstances(4, { ...credentials(cas), authorize: () => true });

    const answers = await burst(instances, 400, 10);

    expect(answers.filter(({ status }) => status !== 200)).toEqual([]);
    expect(cas.calls).toBe(40);
    expect(sizes(tokensByRoom(answers))).toEqual(Array.from({ length: 10 }, () => 4));
  }, 30_000);
});

describe("a room's rotation, read on Redis's clock", () => {
  it('never hands out a token Redis still holds past its rotation: it fetches the next one, which every instance then hands out', async () => {
    cas = await startCas({ lifetimeMs: 3_600_000 });
    const prefix = `rotation-clock-${randomUUID()}:`;
    instances = await startRedisInstances({ redisUrl: redis.url, prefix, kinds: ['node-redis 6', 'ioredis 6'], handler: credentials(cas) });
    const [first, second] = instances.all;
    const before = await ask(first!, 'lobby');

    // Redis keeps the entry an hour longer than its rotation, which has passed on Redis's own
    // clock: as a store that ignores the TTL would, or one a server wrote with a clock behind.
    const key = `${prefix}room:lobby`;
    const entry = JSON.parse((await inspector.get(key)) ?? 'null') as { rotateAt: number };
    const [seconds, micros] = (await inspector.time()) as unknown as [string, string];
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    await inspector.set(key, JSON.stringify({ ...entry, rotateAt: redisNow - 1_000 }), { PX: 3_600_000 });
    const after = await ask(second!, 'lobby');
    const again = await ask(first!, 'lobby');

    expect([before.status, after.status, again.status]).toEqual([200, 200, 200]);
    expect(after.token).not.toBe(before.token);
    expect(again.token).toBe(after.token);
    expect(cas.calls).toBe(2);
    expect(second!.lines).toEqual([{ level: 'warn', message: expect.stringContaining('past its time') }]);
  }, 30_000);
});
