import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryTokenStore, createRedisTokenStore, type TokenStore } from 'react-cas-token/server';
import { redisClients } from '../../test/support/redisClients';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../../test/support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../../test/support/upstashBridge';
import { report } from '../report';

/** Operations per run, how many are in flight at once, and runs per figure (the median is kept). */
const OPERATIONS = 5_000;
const IN_FLIGHT = 50;
const REPEATS = 3;
/** An entry the size the handler stores: a CAS-sized JWT and its expiry. */
const VALUE = JSON.stringify({ token: `eyJhbGciOiJIUzI1NiJ9.${'x'.repeat(400)}.${'s'.repeat(43)}`, expiresAt: 1_893_456_000_000 });

let redis: RedisServer;
let bridge: UpstashBridge;
const clients = redisClients();

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await clients.closeAll();
  await bridge?.close();
  await redis?.close();
});

/** Runs `operation(0..OPERATIONS-1)` with IN_FLIGHT at a time; resolves to operations per second. */
async function opsPerSecond(operation: (index: number) => unknown): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < OPERATIONS) await operation(next++);
    }),
  );
  return OPERATIONS / ((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} ops/s`;

const subjects: [string, () => Promise<TokenStore>][] = [
  // Room for every key the measurement writes: a full store refuses new rooms (too-many-rooms).
  ['memory (one process, for scale)', async () => createMemoryTokenStore({ maxEntries: 1_000_000 })],
  ['node-redis 6', async () => createRedisTokenStore(await clients.nodeRedis(6, redis.url, { disableOfflineQueue: true }))],
  ['ioredis 6', async () => createRedisTokenStore(await clients.ioRedis(6, redis.url, { enableOfflineQueue: false }))],
  ['Upstash client through the local REST bridge', async () => createRedisTokenStore(clients.upstash(bridge))],
];

let run = 0;
for (const [name, makeStore] of subjects) {
  it(`measures ${name}`, async () => {
    const store = await makeStore();
    const writes: number[] = [];
    const reads: number[] = [];
    const deletes: number[] = [];
    for (let repeat = 0; repeat <= REPEATS; repeat++) {
      const prefix = `bench-${(run += 1)}-`;
      const written = await opsPerSecond((i) => store.setIfAbsent(`${prefix}${i}`, VALUE, 60_000));
      const read = await opsPerSecond((i) => store.get(`${prefix}${i}`));
      const deleted = await opsPerSecond((i) => store.deleteIfEqual(`${prefix}${i}`, VALUE));
      // The first round warms connections and the JIT up, and is not counted.
      if (repeat === 0) continue;
      writes.push(written);
      reads.push(read);
      deletes.push(deleted);
    }
    expect(await store.get(`bench-${run}-0`)).toBeFalsy();
    const against = `${IN_FLIGHT} in flight, ${OPERATIONS.toLocaleString('en-US')} per run, median of ${REPEATS}`;
    report({ section: 'store', label: `${name}: setIfAbsent`, value: rate(median(writes)), against });
    report({ section: 'store', label: `${name}: get`, value: rate(median(reads)), against });
    report({ section: 'store', label: `${name}: deleteIfEqual`, value: rate(median(deletes)), against });
  }, 120_000);
}
