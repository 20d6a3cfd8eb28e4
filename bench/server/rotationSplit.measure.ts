// @vitest-environment jsdom
/*
 * The rotation scenario of test/server/rotationWithRealClients.test.tsx, on real time: 40 real
 * clients (<CasTokenProvider>, createProxyFetcher over HTTP) of one room behind 4 instances on one
 * redis-server, joining over three 6 s token lifetimes; how long the room is split after a rotation.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMockCas, type MockCas } from '../../example/server/mockCas';
import { REDIS_SETUP_TIMEOUT_MS, startRedisServer, type RedisServer } from '../../test/support/redisServer';
import { startUpstashBridge, type UpstashBridge } from '../../test/support/upstashBridge';
import { startRedisInstances, type Instances } from '../../test/server/redisInstancesKit';
import { runRotation } from '../../test/server/rotationKit';
import { report } from '../report';

const LIFETIME_MS = 6_000;
const SPLIT_GOAL_MS = 2_000;

let redis: RedisServer;
let bridge: UpstashBridge;
let cas: MockCas;
let instances: Instances;

beforeAll(async () => {
  redis = await startRedisServer();
  bridge = await startUpstashBridge({ redisUrl: redis.url });
  cas = await startMockCas({ lifetimeMs: LIFETIME_MS, latencyMs: 50 });
  instances = await startRedisInstances({
    redisUrl: redis.url,
    bridge,
    prefix: `bench-rotation-${randomUUID()}:`,
    handler: { casUrl: cas.url, apiKey: cas.apiKey, apiSecret: cas.apiSecret, refreshLeadMs: 3_000 },
  });
}, REDIS_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await instances?.close();
  await cas?.close();
  await bridge?.close();
  await redis?.close();
});

it('measures how long 40 real clients of a room hold different tokens after a rotation', async () => {
  const result = await runRotation({
    urls: instances.all.map(({ url }) => url),
    room: 'watch-party',
    clients: 40,
    clientLeadMs: 1_000,
    joinOverMs: 3 * LIFETIME_MS,
    runMs: 3 * LIFETIME_MS + LIFETIME_MS / 2 + 1_000,
    sampleEveryMs: 100,
    seed: Date.now(),
    casCalls: () => cas.calls,
    proxyRequests: () => instances.all.reduce((sum, { requests }) => sum + requests, 0),
  });
  const scenario =
    '40 clients joining at random over three 6 s lifetimes, 4 instances on one redis-server, proxy refreshLeadMs 3 s, client 1 s';
  report({
    section: 'instances',
    label: 'rotation: longest split (clients of one room on different tokens), from every client\'s commits',
    value: `${result.longestSplitMs} ms (sampled every 100 ms: ${result.longestSampledSplitMs} ms)`,
    against: `goal under ${SPLIT_GOAL_MS} ms plus the network; ${result.splits.length} splits: ${result.splits.map(({ ms }) => ms).join(', ')} ms; ${scenario}`,
    ok: result.longestSplitMs < SPLIT_GOAL_MS && result.longestSampledSplitMs < SPLIT_GOAL_MS,
  });
  report({
    section: 'instances',
    label: 'rotation: CAS calls per rotation, requests per token received, expired tokens held',
    value: `${result.casCalls} CAS calls for ${result.tokens.length} tokens; ${result.proxyRequests} requests for ${result.tokensReceived} tokens received; ${result.expiredHeld.length} expired`,
    against: 'goal one CAS call per token, one request per token received (each one bringing the next token), none expired',
    ok:
      result.casCalls === result.tokens.length &&
      result.proxyRequests === result.fetchesSent &&
      result.fetches.length === result.fetchesSent &&
      result.tokensReceived === result.fetches.length &&
      result.fetches.every(({ repeated }) => !repeated) &&
      result.clientErrors.length === 0 &&
      result.expiredHeld.length === 0 &&
      result.lapses.length === 0,
  });
  expect(result.tokens.length).toBeGreaterThanOrEqual(6);
}, 60_000);
