import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMockCas, type MockCas } from '../../example/server/mockCas';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../../test/support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../../test/support/upstashBridge';
import { CLIENT_KINDS, startMemoryInstances, startRedisInstances, type ClientKind, type Instances } from '../../test/server/redisInstancesKit';
import { report } from '../report';

/** The burst: 400 concurrent requests over 10 rooms, CAS answering in 100 ms. */
const BURST = 400;
const ROOMS = 10;
const CAS_LATENCY_MS = 100;
/** Warm throughput: this many requests per run, this many in flight, median of REPEATS after a warm-up. */
const WARM_REQUESTS = 4_000;
const IN_FLIGHT = 100;
const REPEATS = 3;

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  cas = await startMockCas({ latencyMs: CAS_LATENCY_MS, lifetimeMs: 3_600_000 });
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await cas?.close();
  await bridge?.close();
  await redis?.close();
});

/** Request `index` goes to instance `index % 4`, for room `floor(index / 4) % ROOMS`. */
async function ask(instances: Instances, index: number): Promise<{ room: string; token: string }> {
  const instance = instances.all[index % instances.all.length]!;
  const room = `room-${Math.floor(index / instances.all.length) % ROOMS}`;
  const response = await instance.handler(new Request(`http://127.0.0.1/api/cas-token?room=${room}`));
  if (response.status !== 200) throw new Error(`${instance.name} answered ${response.status}: ${await response.text()}`);
  return { room, token: ((await response.json()) as { token: string }).token };
}

interface Measured {
  casCalls: number;
  /** Distinct tokens per room, the most any room got. */
  tokensPerRoom: number;
  coldRate: number;
  warmRate: number;
}

/** The burst on empty stores, on fresh instances each time. */
async function burst(instances: Instances) {
  const callsBefore = cas.calls;
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => ask(instances, i)));
  const perSecond = BURST / ((performance.now() - started) / 1000);
  const byRoom = new Map<string, Set<string>>();
  for (const { room, token } of answers) byRoom.set(room, (byRoom.get(room) ?? new Set()).add(token));
  return { perSecond, casCalls: cas.calls - callsBefore, tokensPerRoom: Math.max(...[...byRoom.values()].map((tokens) => tokens.size)) };
}

/** Warm throughput: WARM_REQUESTS requests, IN_FLIGHT at a time, on instances whose stores hold every room. */
async function warmRate(instances: Instances): Promise<number> {
  const callsBefore = cas.calls;
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < WARM_REQUESTS) await ask(instances, next++);
    }),
  );
  expect(cas.calls).toBe(callsBefore); // warm requests call no CAS
  return WARM_REQUESTS / ((performance.now() - began) / 1000);
}

/**
 * The burst on empty stores (REPEATS times, fresh instances each), then warm throughput on the
 * last ones. The instances' handlers are called in process; the first round of each is not counted.
 */
async function measure(start: () => Promise<Instances>): Promise<Measured> {
  const bursts: Awaited<ReturnType<typeof burst>>[] = [];
  const rates: number[] = [];
  for (let repeat = 0; repeat <= REPEATS; repeat++) {
    const instances = await start();
    try {
      const cold = await burst(instances);
      const warm = await warmRate(instances);
      if (repeat === 0) continue; // warms connections and the JIT up
      bursts.push(cold);
      rates.push(warm);
    } finally {
      await instances.close();
    }
  }
  return {
    casCalls: Math.max(...bursts.map(({ casCalls }) => casCalls)),
    tokensPerRoom: Math.max(...bursts.map(({ tokensPerRoom }) => tokensPerRoom)),
    coldRate: median(bursts.map(({ perSecond }) => perSecond)),
    warmRate: median(rates),
  };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} req/s`;
const handler = () => ({ casUrl: cas.url, apiKey: cas.apiKey, apiSecret: cas.apiSecret });
const onRedis = (kinds: readonly ClientKind[]) => () =>
  startRedisInstances({ redisUrl: redis.url, bridge, prefix: `bench-${randomUUID()}:`, kinds, handler: handler() });

const subjects: [string, () => Promise<Instances>, boolean][] = [
  ['memory stores, one per instance', () => startMemoryInstances(4, { ...handler(), authorize: () => true }), false],
  ...CLIENT_KINDS.map((kind): [string, () => Promise<Instances>, boolean] => [`Redis, 4 × ${kind}`, onRedis([kind, kind, kind, kind]), true]),
  ['Redis, one of each client (node-redis 6, ioredis 6, Upstash, node-redis 5 RESP3)', onRedis(CLIENT_KINDS), true],
];

let memory: Measured | undefined;
for (const [name, start, shared] of subjects) {
  it(`measures 4 instances: ${name}`, async () => {
    const measured = await measure(start);
    if (!shared) memory = measured;
    const against = `${BURST} concurrent requests over ${ROOMS} rooms on empty stores, CAS in ${CAS_LATENCY_MS} ms`;
    report({
      section: 'instances',
      label: `${name}: CAS calls, tokens per room`,
      value: `${measured.casCalls} CAS calls, ${measured.tokensPerRoom} token${measured.tokensPerRoom === 1 ? '' : 's'} per room`,
      against: shared
        ? `goal ${ROOMS} and 1 (one session per room), the most of ${REPEATS} runs; ${against}`
        : `the baseline: each instance fetches and keeps its own token for every room; ${against}`,
      ...(shared && { ok: measured.casCalls === ROOMS && measured.tokensPerRoom === 1 }),
    });
    report({
      section: 'instances',
      label: `${name}: requests per second, empty stores / warm`,
      value: `${rate(measured.coldRate)} / ${rate(measured.warmRate)}`,
      against:
        shared && memory !== undefined
          ? `memory stores: ${rate(memory.coldRate)} / ${rate(memory.warmRate)} (warm x${(measured.warmRate / memory.warmRate).toFixed(2)}); ` +
            `warm: ${WARM_REQUESTS.toLocaleString('en-US')} requests, ${IN_FLIGHT} in flight, median of ${REPEATS} runs after a warm-up, handlers called in process`
          : `warm: ${WARM_REQUESTS.toLocaleString('en-US')} requests, ${IN_FLIGHT} in flight, median of ${REPEATS} runs after a warm-up, handlers called in process`,
    });
    if (shared) expect(measured.casCalls).toBe(ROOMS);
  }, 120_000);
}
