import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCasTokenHandler, fetchCasToken } from 'react-cas-token/server';
import { startMockCas, type MockCas } from '../../example/server/mockCas';
import { report } from '../report';

const CONCURRENT = 1_000;
const CAS_LATENCY_MS = 50;
const REPEATS = 3;

type Handler = (request: Request) => Promise<Response>;

let cas: MockCas;

beforeAll(async () => {
  cas = await startMockCas({ latencyMs: CAS_LATENCY_MS, lifetimeMs: 3_600_000 });
});

afterAll(async () => {
  await cas.close();
});

function cachedHandler(): Handler {
  return createCasTokenHandler({
    casUrl: cas.url,
    apiKey: cas.apiKey,
    apiSecret: cas.apiSecret,
    logger: { warn: () => {}, error: () => {} },
  });
}

/** What a proxy without a cache does: every request is a CAS call. */
function passThroughHandler(): Handler {
  return async (request) => {
    const room = new URL(request.url).searchParams.get('room');
    if (!room) return Response.json({ error: 'bad-request' }, { status: 400 });
    const token = await fetchCasToken({ casUrl: cas.url, apiKey: cas.apiKey, apiSecret: cas.apiSecret });
    return Response.json({ token }, { headers: { 'Cache-Control': 'no-store' } });
  };
}

interface Round {
  casCalls: number;
  requestsPerSecond: number;
  distinctTokens: number;
}

/** Fires CONCURRENT requests at once, spread over `rooms` rooms, and waits for every answer. */
async function round(handler: Handler, rooms: number): Promise<Round> {
  const callsBefore = cas.calls;
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      const response = await handler(new Request(`http://127.0.0.1/api/cas-token?room=room-${i % rooms}`));
      if (response.status !== 200) throw new Error(`The handler answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    casCalls: cas.calls - callsBefore,
    requestsPerSecond: CONCURRENT / seconds,
    distinctTokens: new Set(answers).size,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} req/s`;

it('warms up both handlers', async () => {
  await round(cachedHandler(), 10);
  await round(passThroughHandler(), 10);
});

for (const rooms of [1, 10, 100]) {
  it(`serves ${CONCURRENT} concurrent requests for ${rooms} room(s) with one CAS call per room`, async () => {
    const cold: Round[] = [];
    const warm: Round[] = [];
    const plain: Round[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      // A fresh handler each time: the first round meets an empty cache.
      const handler = cachedHandler();
      cold.push(await round(handler, rooms));
      warm.push(await round(handler, rooms));
      plain.push(await round(passThroughHandler(), rooms));
    }
    const casCalls = Math.max(...cold.map((r) => r.casCalls));
    const coldRate = median(cold.map((r) => r.requestsPerSecond));
    const warmRate = median(warm.map((r) => r.requestsPerSecond));
    const plainRate = median(plain.map((r) => r.requestsPerSecond));
    const label = `${rooms} room${rooms === 1 ? '' : 's'}`;

    report({
      section: 'proxy',
      label: `CAS calls, ${CONCURRENT} concurrent requests, ${label}, empty cache`,
      value: String(casCalls),
      against: `goal ${rooms} (one per room); without the cache: ${Math.max(...plain.map((r) => r.casCalls))}; warm cache: ${Math.max(...warm.map((r) => r.casCalls))}`,
      ok: casCalls === rooms && cold.every((r) => r.distinctTokens === rooms),
    });
    report({
      section: 'proxy',
      label: `requests per second, ${label}, empty cache (${CAS_LATENCY_MS} ms CAS)`,
      value: rate(coldRate),
      against: `without the cache: ${rate(plainRate)} (x${(coldRate / plainRate).toFixed(1)}); median of ${REPEATS}`,
    });
    report({
      section: 'proxy',
      label: `requests per second, ${label}, warm cache`,
      value: rate(warmRate),
      against: `without the cache: ${rate(plainRate)} (x${(warmRate / plainRate).toFixed(1)}); median of ${REPEATS}`,
    });
    expect(casCalls).toBe(rooms);
  });
}
