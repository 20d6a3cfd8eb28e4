// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createCasTokenHandler,
  createMemoryTokenStore,
  type CasTokenHandler,
  type CasTokenHandlerOptions,
  type TokenStore,
} from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { captureLogger, credentials, startCas, startManualCas, tokenRequest, track, turns, until, type ManualCas } from './casTestKit';

const NOW = Date.UTC(2030, 0, 1);

let logger: ReturnType<typeof captureLogger>;
beforeEach(() => {
  logger = captureLogger();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Several server processes: handler instances that share nothing but `store`. */
function instances(count: number, casUrl: string, store: TokenStore, options: Partial<CasTokenHandlerOptions> = {}): CasTokenHandler[] {
  return Array.from({ length: count }, () =>
    createCasTokenHandler({ ...credentials({ url: casUrl }), authorize: () => true, logger, store, ...options }),
  );
}

async function answerOf(response: Response) {
  expect(response.status).toBe(200);
  return (await response.json()) as { token: string; expiresIn?: number; refreshIn: number };
}

describe('instances sharing a store, against a real CAS', () => {
  let cas: MockCas;
  beforeEach(async () => {
    cas = await startCas({ lifetimeMs: 3_600_000, latencyMs: 100 });
  });
  afterEach(async () => {
    await cas.close();
  });

  it('hands out one token per room across 4 instances: 400 concurrent requests over 10 rooms make 10 CAS calls', async () => {
    const servers = instances(4, cas.url, createMemoryTokenStore());
    const answers = await Promise.all(
      Array.from({ length: 400 }, async (_, index) => {
        const room = `room-${index % 10}`;
        const server = servers[Math.floor(index / 10) % 4] as CasTokenHandler;
        return { room, token: (await answerOf(await server(tokenRequest(room)))).token };
      }),
    );
    expect(cas.calls).toBe(10);
    const tokensByRoom = new Map<string, Set<string>>();
    for (const { room, token } of answers) tokensByRoom.set(room, (tokensByRoom.get(room) ?? new Set()).add(token));
    expect([...tokensByRoom.values()].map((tokens) => tokens.size)).toEqual(Array.from({ length: 10 }, () => 1));
    expect(new Set(answers.map(({ token }) => token)).size).toBe(10);
  });
});

describe('the lock between instances', () => {
  let cas: ManualCas;
  beforeEach(async () => {
    cas = await startManualCas();
  });
  afterEach(async () => {
    await cas.close();
  });

  it('makes an instance that loses the lock wait for the winner\'s token, calling no CAS itself', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const [a, b] = instances(2, cas.url, createMemoryTokenStore()) as [CasTokenHandler, CasTokenHandler];
    const fromA = track(a(tokenRequest('room-1')));
    await until(() => cas.waiting === 1);
    const fromB = track(b(tokenRequest('room-1')));
    await vi.advanceTimersByTimeAsync(3_000); // B looks again and again: still locked
    await turns(50);
    expect([fromA.settled, fromB.settled, cas.calls]).toEqual([false, false, 1]);

    cas.answer();
    const tokenA = (await answerOf(await fromA.promise)).token;
    await vi.advanceTimersByTimeAsync(250);
    expect((await answerOf(await fromB.promise)).token).toBe(tokenA);
    expect(cas.calls).toBe(1);
  });

  it('lets a waiting instance take over when the winner\'s CAS call fails', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const [a, b] = instances(2, cas.url, createMemoryTokenStore()) as [CasTokenHandler, CasTokenHandler];
    const fromA = a(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    const fromB = track(b(tokenRequest('room-1')));
    await vi.advanceTimersByTimeAsync(100);
    cas.fail(500);
    expect((await fromA).status).toBe(502);

    await vi.advanceTimersByTimeAsync(250); // B looks again: no lock, no token
    await until(() => cas.waiting === 1, 'B to call CAS');
    cas.answer();
    expect((await answerOf(await fromB.promise)).token).toBe(cas.tokens[0]);
    expect(cas.calls).toBe(2);
  });

  it('hands out the token another instance stored when the winner\'s lock ran out, never its own', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const base = createMemoryTokenStore();
    // A store that keeps locks for only 2 s, as if the winner had stalled past its lock.
    const store: TokenStore = {
      get: (key) => base.get(key),
      setIfAbsent: (key, value, ttlMs) => base.setIfAbsent(key, value, value.startsWith('{"lock"') ? 2_000 : ttlMs),
      deleteIfEqual: (key, value) => base.deleteIfEqual(key, value),
    };
    const [a, b] = instances(2, cas.url, store) as [CasTokenHandler, CasTokenHandler];
    const fromA = track(a(tokenRequest('room-1')));
    await until(() => cas.waiting === 1);
    const fromB = track(b(tokenRequest('room-1')));
    await vi.advanceTimersByTimeAsync(2_300); // A's lock runs out; B takes the room and calls CAS
    await until(() => cas.waiting === 2, 'B to call CAS');

    cas.answer(1); // A's call answers first: its lock is gone, B holds the room
    await turns(50);
    await vi.advanceTimersByTimeAsync(250);
    expect(fromA.settled).toBe(false);
    cas.answer(1); // B stores its token
    const tokenB = (await answerOf(await fromB.promise)).token;
    await vi.advanceTimersByTimeAsync(250);
    expect((await answerOf(await fromA.promise)).token).toBe(tokenB);
    expect(tokenB).toBe(cas.tokens[1]);
    expect(await answerOf(await a(tokenRequest('room-1')))).toMatchObject({ token: tokenB });
  });

  it('keeps one token per room when the lock does not hold (both instances win it): the second adopts the first\'s', async () => {
    const base = createMemoryTokenStore();
    const store: TokenStore = {
      get: (key) => {
        const value = base.get(key);
        return typeof value === 'string' && value.startsWith('{"lock"') ? undefined : value;
      },
      // A lock that every instance wins, as with a lock that ran out: only setIfAbsent of the
      // token keeps the room together.
      setIfAbsent: (key, value, ttlMs) => (value.startsWith('{"lock"') ? true : base.setIfAbsent(key, value, ttlMs)),
      deleteIfEqual: (key, value) => base.deleteIfEqual(key, value),
    };
    const [a, b] = instances(2, cas.url, store) as [CasTokenHandler, CasTokenHandler];
    const fromA = a(tokenRequest('room-1'));
    const fromB = b(tokenRequest('room-1'));
    await until(() => cas.waiting === 2);
    cas.answer();
    const [answerA, answerB] = await Promise.all([fromA.then(answerOf), fromB.then(answerOf)]);
    expect(answerA.token).toBe(answerB.token);
    expect(cas.calls).toBe(2);
  });

  it('still stores and hands out its token when the store runs the swap\'s two calls the other way round', async () => {
    const base = createMemoryTokenStore();
    const later = (value: () => boolean | Promise<boolean>) => new Promise<boolean>((resolve) => setTimeout(() => resolve(value()), 20));
    const store: TokenStore = {
      get: async (key) => base.get(key),
      setIfAbsent: async (key, value, ttlMs) => base.setIfAbsent(key, value, ttlMs),
      // The release arrives after the write: the write finds the lock still there.
      deleteIfEqual: (key, value) => later(() => base.deleteIfEqual(key, value)),
    };
    const [a] = instances(1, cas.url, store) as [CasTokenHandler];
    const fromA = a(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.answer();
    expect((await answerOf(await fromA)).token).toBe(cas.tokens[0]);
    expect(JSON.parse((await base.get('room:room-1')) as string)).toMatchObject({ token: cas.tokens[0] });
    expect(cas.calls).toBe(1);
  });
});

describe('synchronized rotation', () => {
  let cas: MockCas;
  beforeEach(async () => {
    cas = await startCas({ lifetimeMs: 60_000 });
  });
  afterEach(async () => {
    await cas.close();
  });

  it('tells every client of a room, on any instance, the same rotation time', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const servers = instances(3, cas.url, createMemoryTokenStore(), { refreshLeadMs: 10_000 });
    const answers = [];
    for (const [index, server] of servers.entries()) {
      vi.setSystemTime(NOW + index * 7_000);
      answers.push({ at: Date.now(), ...(await answerOf(await server(tokenRequest('room-1')))) });
    }
    expect(new Set(answers.map(({ token }) => token)).size).toBe(1);
    // 60 s tokens, 10 s lead: every client renews at NOW + 50 s.
    expect(answers.map(({ at, refreshIn }) => at + refreshIn)).toEqual([NOW + 50_000, NOW + 50_000, NOW + 50_000]);
  });

  it('gives a client whose renewal fires a little early (it counts from sending its request) the new token, not the old one', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const [server] = instances(1, cas.url, createMemoryTokenStore(), { refreshLeadMs: 10_000 }) as [CasTokenHandler];
    const first = await answerOf(await server(tokenRequest('room-1')));
    vi.setSystemTime(NOW + first.refreshIn - 600);
    const renewed = await answerOf(await server(tokenRequest('room-1')));
    expect(renewed.token).not.toBe(first.token);
    // A full period again (exp has one-second precision).
    expect(renewed.refreshIn).toBeGreaterThan(49_000);
  });

  it('keeps 40 clients joining over three lifetimes on one token, but for under a second after each rotation, with one CAS call per rotation', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const servers = instances(4, cas.url, createMemoryTokenStore(), { refreshLeadMs: 10_000 });
    let seed = 7;
    const random = () => ((seed = (seed * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
    const clients = Array.from({ length: 40 }, () => ({
      joinAt: NOW + Math.floor(random() * 180_000),
      // Its renewal timer counts from sending the request: early by up to 500 ms of latency.
      earlyMs: Math.floor(random() * 500),
      token: undefined as string | undefined,
      renewAt: Number.POSITIVE_INFINITY,
    }));

    const STEP_MS = 100;
    let splitFor = 0;
    let longestSplit = 0;
    for (let now = NOW; now <= NOW + 180_000; now += STEP_MS) {
      vi.setSystemTime(now);
      for (const client of clients) {
        if (client.token === undefined ? client.joinAt > now : client.renewAt > now) continue;
        const server = servers[Math.floor(random() * 4)] as CasTokenHandler;
        const answer = await answerOf(await server(tokenRequest('watch-party')));
        client.token = answer.token;
        client.renewAt = now - client.earlyMs + answer.refreshIn;
      }
      const held = new Set(clients.flatMap((client) => (client.token === undefined ? [] : [client.token])));
      splitFor = held.size > 1 ? splitFor + STEP_MS : 0;
      longestSplit = Math.max(longestSplit, splitFor);
    }
    // Tokens live 60 s and rotate at 50 s: the first join, then one CAS call every 50 s.
    const firstJoin = Math.min(...clients.map((client) => client.joinAt));
    const rotations = Math.floor((NOW + 180_000 - firstJoin) / 50_000);
    expect(cas.calls).toBe(1 + rotations);
    expect(longestSplit).toBeGreaterThan(0);
    expect(longestSplit).toBeLessThanOrEqual(1_000);
  });
});
