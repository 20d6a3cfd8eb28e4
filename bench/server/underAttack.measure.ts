import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { createCasTokenHandler, createMemoryTokenStore, DEFAULT_MAX_CONCURRENT_CAS_CALLS, type TokenStore } from 'react-cas-token/server';
import { createTestToken } from 'react-cas-token/testing';
import { startMockCas } from '../../example/server/mockCas';
import { report } from '../report';

const quiet = { warn: () => {}, error: () => {} };
const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(listener: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function request(room: string): Request {
  return new Request(`http://127.0.0.1/api/cas-token?room=${room}`);
}

const count = (value: number) => value.toLocaleString('en-US');

it('calls a CAS that is down once per room per Retry-After window, and tells clients when to come back', async () => {
  let casCalls = 0;
  const casUrl = await listen((_req, res) => {
    casCalls += 1;
    res.writeHead(503, { 'Retry-After': '120' });
    res.end('down');
  });
  const handler = createCasTokenHandler({ casUrl, apiKey: 'bench-key', apiSecret: 'bench-secret', authorize: () => true, logger: quiet });
  const statuses = new Map<string, number>();
  // 1,000 requests for one room over 5 s: 20 every 100 ms.
  for (let tick = 0; tick < 50; tick += 1) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => handler(request('movie-night'))));
    for (const answer of answers) {
      const key = `${answer.status} Retry-After ${answer.headers.get('retry-after') === null ? 'none' : 'set'}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      await answer.arrayBuffer();
    }
    await sleep(100);
  }
  report({
    section: 'attack',
    label: 'CAS calls for 1,000 requests for one room over 5 s while CAS answers 503 with Retry-After: 120',
    value: String(casCalls),
    against: `goal at most 3 per room per Retry-After window; before this work: 991. Answers: ${[...statuses].map(([key, n]) => `${count(n)} × ${key}`).join(', ')}`,
    ok: casCalls <= 3 && statuses.get('502 Retry-After set') === 1_000,
  });
  expect(casCalls).toBeLessThanOrEqual(3);
});

it('answers within storeTimeoutMs when the store stalls', async () => {
  const stalled: TokenStore = { get: () => new Promise(() => {}), setIfAbsent: () => new Promise(() => {}), deleteIfEqual: () => new Promise(() => {}) };
  const handler = createCasTokenHandler({
    casUrl: 'http://127.0.0.1:9',
    apiKey: 'bench-key',
    apiSecret: 'bench-secret',
    authorize: () => true,
    store: stalled,
    logger: quiet,
  });
  const times: number[] = [];
  const statuses = new Set<number>();
  await Promise.all(
    Array.from({ length: 200 }, async (_, index) => {
      const started = performance.now();
      const answer = await handler(request(`room-${index % 20}`));
      times.push(performance.now() - started);
      statuses.add(answer.status);
    }),
  );
  const slowest = Math.max(...times);
  report({
    section: 'attack',
    label: 'slowest answer of 200 requests over 20 rooms when every store call stalls (default storeTimeoutMs 1,000)',
    value: `${Math.round(slowest)} ms`,
    against: `goal within 1,000 ms + 100 ms; answers: ${[...statuses].join(', ')} store-unavailable; before this work: never (the room hung)`,
    ok: slowest <= 1_100 && statuses.size === 1 && statuses.has(503),
  });
});

function heap(): { heapUsed: number; arrayBuffers: number; rss: number } {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('Run node with --expose-gc.');
  collect();
  collect();
  return process.memoryUsage();
}

it('reads no more than 64 kB of a 1 GB CAS answer', async () => {
  let bytesSent = 0;
  const casUrl = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.from(`{"token":"${'x'.repeat(64 * 1024)}`);
    const pump = () => {
      while (!res.destroyed && bytesSent < 1024 ** 3) {
        bytesSent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const handler = createCasTokenHandler({ casUrl, apiKey: 'bench-key', apiSecret: 'bench-secret', authorize: () => true, logger: quiet });
  const before = heap();
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  const answer = await handler(request('room-1'));
  clearInterval(sampler);
  const body = (await answer.json()) as { error: string };
  await sleep(100);
  const after = heap();
  const grew = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  report({
    section: 'attack',
    label: 'memory after a CAS answer of 1 GB (heap and buffers, after a full collection)',
    value: mb(Math.max(0, grew)),
    against: `goal under 1 MB beyond the 64 kB cap; answered ${answer.status} ${body.error}; CAS sent ${mb(bytesSent)} before the proxy hung up; peak RSS +${mb(peakRss - before.rss)}; before this work: out of memory`,
    ok: grew < 1024 * 1024 && body.error === 'cas-invalid-response',
  });
});

it('keeps a busy room on one token through a flood of 20,000 new room names', async () => {
  let casCalls = 0;
  const casFetch: typeof fetch = async () => {
    casCalls += 1;
    return Response.json({ token: createTestToken({ lifetimeMs: 3_600_000 }) });
  };
  const handler = createCasTokenHandler({
    casUrl: 'http://127.0.0.1:9',
    apiKey: 'bench-key',
    apiSecret: 'bench-secret',
    authorize: () => true,
    fetch: casFetch,
    logger: quiet,
  });
  const tokenOf = async (room: string) => ((await (await handler(request(room))).json()) as { token?: string }).token;
  const busyTokens = new Set([await tokenOf('busy-room')]);
  const statuses = new Map<number, number>();
  for (let batch = 0; batch < 200; batch += 1) {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => handler(request(`made-up-${batch * 100 + i}`))));
    for (const answer of answers) {
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      await answer.arrayBuffer();
    }
    busyTokens.add(await tokenOf('busy-room'));
  }
  report({
    section: 'attack',
    label: 'distinct tokens of a busy room asked 200 times during a flood of 20,000 new room names (default memory store)',
    value: String(busyTokens.size),
    against: `goal 1; the flood got ${[...statuses].map(([status, n]) => `${count(n)} × ${status}`).join(', ')} (503 too-many-rooms past the store's 10,000 places), ${count(casCalls)} CAS calls; before this work: the busy room's token changed`,
    ok: busyTokens.size === 1,
  });
});

it('makes at most maxConcurrentCasCalls CAS calls at once for 2,000 new rooms', async () => {
  const cas = await startMockCas({ latencyMs: 50, lifetimeMs: 3_600_000 });
  try {
    let open = 0;
    let peak = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      open += 1;
      peak = Math.max(peak, open);
      try {
        return await fetch(input, init);
      } finally {
        open -= 1;
      }
    };
    const handler = createCasTokenHandler({
      casUrl: cas.url,
      apiKey: cas.apiKey,
      apiSecret: cas.apiSecret,
      authorize: () => true,
      fetch: countingFetch,
      logger: quiet,
    });
    const started = performance.now();
    const statuses = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 2_000 }, async (_, index) => {
        const answer = await handler(request(`new-room-${index}`));
        const key = answer.status === 200 ? '200' : `${answer.status} ${((await answer.json()) as { error: string }).error}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    report({
      section: 'attack',
      label: 'most CAS calls open at once, 2,000 new rooms at once (CAS answering in 50 ms)',
      value: String(peak),
      against: `goal at most ${DEFAULT_MAX_CONCURRENT_CAS_CALLS} (maxConcurrentCasCalls); all answered in ${seconds.toFixed(1)} s: ${[...statuses].map(([key, n]) => `${count(n)} × ${key}`).join(', ')}; before this work: 1,886`,
      ok: peak <= DEFAULT_MAX_CONCURRENT_CAS_CALLS,
    });
  } finally {
    await cas.close();
  }
});

it('serves one token per room from 4 instances sharing a store', async () => {
  const cas = await startMockCas({ latencyMs: 100, lifetimeMs: 3_600_000 });
  try {
    const store = createMemoryTokenStore();
    const instances = Array.from({ length: 4 }, () =>
      createCasTokenHandler({ casUrl: cas.url, apiKey: cas.apiKey, apiSecret: cas.apiSecret, authorize: () => true, store, logger: quiet }),
    );
    const tokens = new Map<string, Set<string>>();
    await Promise.all(
      Array.from({ length: 400 }, async (_, index) => {
        const room = `room-${index % 10}`;
        const answer = await instances[index % 4]!(request(room));
        const { token } = (await answer.json()) as { token: string };
        tokens.set(room, (tokens.get(room) ?? new Set()).add(token));
      }),
    );
    const split = [...tokens.values()].filter((set) => set.size > 1).length;
    report({
      section: 'attack',
      label: 'CAS calls for 400 concurrent requests over 10 rooms, 4 handler instances sharing one store (CAS answering in 100 ms)',
      value: String(cas.calls),
      against: `goal 10 (one per room); rooms with more than one token: ${split}`,
      ok: cas.calls === 10 && split === 0,
    });
  } finally {
    await cas.close();
  }
});
