// @vitest-environment node
/*
 * A Redis outage under load, end to end: 4 instances (node-redis 6, ioredis 6, Upstash through the
 * REST bridge, node-redis 5 on RESP3) over HTTP on 127.0.0.1, requests flowing to each, then
 * redis-server stops (and with it the bridge, as an Upstash endpoint that goes away) and starts
 * again on the same port, empty. Nothing is restarted or recreated on the instances' side.
 * Once with the clients as their constructors make them (node-redis and ioredis queue commands
 * while offline), once with the outage options of docs/redis.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MockCas } from '../../example/server/mockCas';
import { connectInspector } from '../support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../support/upstashBridge';
import { API_KEY, API_SECRET, credentials, startCas } from './casTestKit';
import { ask, burst, CLIENT_KINDS, startRedisInstances, tokensByRoom, type Answer, type ClientOptions, type Instances } from './redisInstancesKit';

const STORE_TIMEOUT_MS = 250;
/** How much later than storeTimeoutMs a 503 may arrive: HTTP on loopback, and a busy 2-core machine. */
const ANSWER_MARGIN_MS = 150;
/** node-redis and ioredis retry every 2 s at most, and so does the bridge's own client. */
const RECOVERS_WITHIN_MS = 10_000;
const OUTAGE_MS = 1_500;
const ROOMS = 10;
/** Concurrent request loops per instance, each asking for the next room every 20 ms. */
const LOOPS_PER_INSTANCE = 2;

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;
let inspector: Awaited<ReturnType<typeof connectInspector>>;
let instances: Instances | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  cas = await startCas({ latencyMs: 50, lifetimeMs: 3_600_000 });
  inspector = await connectInspector(redis.url);
}, REDIS_SETUP_TIMEOUT_MS);

afterEach(async () => {
  await instances?.close();
  instances = undefined;
  // A failed test must not leave the next one without Redis or the bridge.
  await redis.start();
  await bridge.start();
  await bridge.untilConnected();
});

afterAll(async () => {
  inspector?.destroy();
  await cas?.close();
  await bridge?.close();
  await redis?.close();
});

const room = (index: number) => `room-${index}`;

/** Asks each instance for room after room, LOOPS_PER_INSTANCE at a time, until stopped. */
function keepAsking(all: Instances) {
  const answers: (Answer & { answeredAt: number })[] = [];
  let running = true;
  const loops = all.all.flatMap((instance, i) =>
    Array.from({ length: LOOPS_PER_INSTANCE }, async (_, loop) => {
      for (let n = i + loop * 5; running; n += 1) {
        const sentAt = Date.now();
        try {
          answers.push({ ...(await ask(instance, room(n % ROOMS))), answeredAt: Date.now() });
        } catch (error) {
          // No HTTP answer at all (the instance went away): recorded, and the test fails on it.
          const failed = { status: 0, token: undefined, error: String(error), retryAfter: null, ms: Date.now() - sentAt, sentAt };
          answers.push({ ...failed, room: room(n % ROOMS), instance: instance.name, answeredAt: Date.now() });
        }
        await sleep(20);
      }
    }),
  );
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe.each<ClientOptions>(['recommended', 'default'])('a Redis outage under load, every client with its %s options', (clientOptions) => {
  it('answers 503 store-unavailable with Retry-After within storeTimeoutMs and logs it, never a 200; once Redis is back each instance serves one token per room again, with the same handlers and clients', async ({ annotate }) => {
    const prefix = `outage-${randomUUID()}:`;
    instances = await startRedisInstances({
      redisUrl: redis.url,
      bridge,
      prefix,
      clientOptions,
      handler: { ...credentials(cas), storeTimeoutMs: STORE_TIMEOUT_MS },
    });
    const casBefore = cas.calls;
    const before = tokensByRoom(await burst(instances, 40, ROOMS, room));
    expect([...before.values()].map((tokens) => tokens.size)).toEqual(Array.from({ length: ROOMS }, () => 1));

    const load = keepAsking(instances);
    const recoveredAt = new Map<string, number>();
    let downAt: number;
    let upStartedAt: number;
    let upAt: number;
    try {
      await sleep(300);
      await Promise.all([redis.stop(), bridge.stop()]);
      downAt = Date.now();
      await sleep(OUTAGE_MS);
      upStartedAt = Date.now();
      await Promise.all([redis.start(), bridge.start()]);
      upAt = Date.now(); // redis-server answers PING

      const deadline = upAt + RECOVERS_WITHIN_MS;
      while (recoveredAt.size < instances.all.length && Date.now() < deadline) {
        for (const answer of load.answers) {
          if (answer.status === 200 && answer.sentAt >= upAt && !recoveredAt.has(answer.instance)) recoveredAt.set(answer.instance, answer.answeredAt);
        }
        await sleep(20);
      }
      await sleep(500); // every instance serves for a while after recovering
    } finally {
      await load.stop();
    }
    const recoveryMs = Object.fromEntries(CLIENT_KINDS.map((name) => [name, (recoveredAt.get(name) ?? Number.NaN) - upAt]));
    const failures = load.answers.filter(({ status }) => status !== 200);
    const slowest = (name: string) => Math.round(Math.max(...failures.filter(({ instance }) => instance === name).map(({ ms }) => ms)));
    await annotate(
      `${clientOptions}: ${load.answers.length} answers, ${failures.length} × 503; ` +
        CLIENT_KINDS.map((name) => `${name}: slowest 503 ${slowest(name)} ms, served ${recoveryMs[name]} ms after PING`).join('; '),
    );

    // Every instance came back by itself.
    expect(Object.values(recoveryMs).every((ms) => ms >= 0 && ms <= RECOVERS_WITHIN_MS), JSON.stringify(recoveryMs)).toBe(true);

    // While Redis was down, every instance answered every request with a bounded 503.
    const duringOutage = load.answers.filter(({ sentAt, answeredAt }) => sentAt >= downAt && answeredAt <= upStartedAt);
    for (const instance of instances.all) {
      const own = duringOutage.filter((answer) => answer.instance === instance.name);
      expect(own.length, instance.name).toBeGreaterThanOrEqual(4);
      expect(own.filter(({ status }) => status !== 503), instance.name).toEqual([]);
    }
    for (const failure of failures) {
      expect(failure).toMatchObject({ status: 503, error: 'store-unavailable', retryAfter: '1' });
      expect(failure.ms).toBeLessThanOrEqual(STORE_TIMEOUT_MS + ANSWER_MARGIN_MS);
    }

    // Every token handed out is one Redis held: the room's token from before the outage, or the
    // one token per room fetched once after it (Redis came back empty). Never one per instance.
    const after = tokensByRoom(load.answers.filter(({ sentAt }) => sentAt >= upAt));
    expect(after.size).toBe(ROOMS);
    for (const [name, tokens] of after) {
      expect(tokens.size, name).toBe(1);
      const [token] = tokens;
      expect(before.get(name)?.has(token!)).toBe(false);
      const stored = JSON.parse((await inspector.get(`${prefix}room:${name}`)) ?? 'null') as { token: string } | null;
      expect(stored?.token).toBe(token);
    }
    // Answered before Redis came back: the room's token from before the outage.
    const earlier = tokensByRoom(load.answers.filter(({ status, answeredAt }) => status === 200 && answeredAt < upStartedAt));
    for (const [name, tokens] of earlier) expect([...tokens]).toEqual([...before.get(name)!]);
    // Sent while Redis was down but answered once it was back (a client's offline queue ran the
    // calls then, within storeTimeoutMs): the one token Redis holds after the outage.
    const late = tokensByRoom(load.answers.filter(({ status, sentAt, answeredAt }) => status === 200 && sentAt < upAt && answeredAt >= upStartedAt));
    for (const [name, tokens] of late) expect([...tokens]).toEqual([...after.get(name)!]);
    expect(cas.calls - casBefore).toBe(2 * ROOMS);

    // Each instance said why, without quoting a secret.
    for (const instance of instances.all) {
      expect(instance.lines.some(({ level, message }) => level === 'error' && message.includes('503 store-unavailable')), instance.name).toBe(true);
      const logged = JSON.stringify(instance.lines);
      expect(logged).not.toContain(API_KEY);
      expect(logged).not.toContain(API_SECRET);
    }
  }, 40_000);
});
