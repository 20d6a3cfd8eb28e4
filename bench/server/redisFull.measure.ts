import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMockCas, type MockCas } from '../../example/server/mockCas';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../../test/support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../../test/support/upstashBridge';
import { startRedisInstances, type Instances } from '../../test/server/redisInstancesKit';
import { report } from '../report';

/** Memory Redis may use beyond what it uses once the instances are up: room for some 3,000 rooms. */
const HEADROOM_BYTES = 2_000_000;
/** New room names, about twice what fits, and how many requests are in flight at once. */
const FLOOD_ROOMS = 6_000;
const IN_FLIGHT = 64;
const CAS_LATENCY_MS = 20;
const LIVE_ROOM = 'movie-night';

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;
let instances: Instances | undefined;
const inspector = () => {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  return client.connect();
};

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  cas = await startMockCas({ latencyMs: CAS_LATENCY_MS, lifetimeMs: 3_600_000 });
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await instances?.close();
  await cas?.close();
  await bridge?.close();
  await redis?.close();
});

async function ask(instances: Instances, index: number, room: string): Promise<{ status: number; token?: string; error?: string }> {
  const instance = instances.all[index % instances.all.length]!;
  const response = await instance.handler(new Request(`http://127.0.0.1/api/cas-token?room=${room}`));
  return { status: response.status, ...((await response.json()) as { token?: string; error?: string }) };
}

it('spends one CAS call per room a full Redis (noeviction) stores, and none on the rooms it refuses', async () => {
  instances = await startRedisInstances({ redisUrl: redis.url, bridge, prefix: `full-${randomUUID()}:`, handler: { casUrl: cas.url, apiKey: 'mock-cas-key', apiSecret: 'mock-cas-secret' } });
  const live = await ask(instances, 0, LIVE_ROOM);
  expect(live.status).toBe(200);
  const client = await inspector();
  const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
  await client.configSet({ maxmemory: String(used + HEADROOM_BYTES), 'maxmemory-policy': 'noeviction' });
  const casBefore = cas.calls;

  const answers = new Map<string, number>();
  const liveTokens = new Set<string>([live.token!]);
  let next = 0;
  let done = false;
  const asker = (async () => {
    for (let turn = 0; !done; turn += 1) {
      const { token, error } = await ask(instances, turn, LIVE_ROOM);
      liveTokens.add(token ?? `error ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < FLOOD_ROOMS) {
        const index = next++;
        const { status, error } = await ask(instances!, index, `flood-${index}`);
        const key = status === 200 ? '200' : `${status} ${error}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
    }),
  );
  done = true;
  await asker;
  const casCalls = cas.calls - casBefore;
  const stored = (await client.dbSize()) - 1;
  await client.configSet({ maxmemory: '0' });
  client.destroy();

  const perRoom = casCalls / stored;
  const shown = [...answers].map(([key, n]) => `${n.toLocaleString('en-US')} × ${key}`).join(', ');
  report({
    section: 'attack',
    label: `Redis full (noeviction, maxmemory 2 MB above idle): ${FLOOD_ROOMS.toLocaleString('en-US')} new room names over 4 instances (one per client kind), ${IN_FLIGHT} in flight, one room in use`,
    value: `${perRoom.toFixed(3)} CAS calls per stored room (${casCalls.toLocaleString('en-US')} for ${stored.toLocaleString('en-US')})`,
    against:
      'goal 1, and 503 too-many-rooms for the rest; before this work 1.019 and 1.025 in two runs (4,273 and 4,295 for 4,192) and 1,810 × 503 ' +
      'store-unavailable; with OOM answered too-many-rooms but locks not padded to an entry\'s length, 1.007 and 1.015. ' +
      `Answers: ${shown} (a store-unavailable here is the local Upstash bridge timing out under the load); ` +
      `the room in use kept ${liveTokens.size === 1 ? 'its token' : `${liveTokens.size} tokens`}`,
    ok: perRoom <= 1.01 && liveTokens.size === 1,
  });
  expect(stored).toBeGreaterThan(0);
}, 180_000);
