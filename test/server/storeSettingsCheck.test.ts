// @vitest-environment node
/*
 * TokenStore.checkSettings, as the handler uses it: once, in the background, when a request first
 * uses the store; its lines logged once; a check that cannot reach the store tried again a minute
 * later at the earliest; and never a request made to wait for it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCasTokenHandler, createMemoryTokenStore, type TokenStore } from 'react-cas-token/server';
import { API_KEY, API_SECRET, captureLogger, jwtWith, tokenRequest } from './casTestKit';

const NOW = Date.UTC(2030, 0, 1);
const STORE_TIMEOUT_MS = 1_000;

afterEach(() => {
  vi.useRealTimers();
});

/** A memory store whose checkSettings runs `check`, counting the calls. */
function storeChecking(check: () => Promise<readonly string[]>) {
  const memory = createMemoryTokenStore();
  const counted = { calls: 0 };
  const store: TokenStore = {
    get: (key) => memory.get(key),
    setIfAbsent: (key, value, ttlMs) => memory.setIfAbsent(key, value, ttlMs),
    deleteIfEqual: (key, value) => memory.deleteIfEqual(key, value),
    checkSettings: () => {
      counted.calls += 1;
      return check();
    },
  };
  return { store, counted };
}

function handlerWith(store: TokenStore, authorize: () => boolean = () => true) {
  const logger = captureLogger();
  const handler = createCasTokenHandler({
    casUrl: 'https://cas.example.com',
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    authorize,
    store,
    storeTimeoutMs: STORE_TIMEOUT_MS,
    logger,
    // CAS answers at once: the tests are about the store.
    fetch: async () => Response.json({ token: jwtWith({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3_600 }) }),
  });
  return { handler, logger };
}

const statusOf = async (handler: (request: Request) => Promise<Response>, room: string) => (await handler(tokenRequest(room))).status;

describe('the store settings check', () => {
  it('runs once, when a request first uses the store, and logs each line it finds once, made safe for one log line', async () => {
    const { store, counted } = storeChecking(async () => ['Redis evicts keys when full.\nA forged line?', `It quotes ${API_SECRET}.`]);
    const { handler, logger } = handlerWith(store);
    expect(counted.calls).toBe(0);

    for (const room of ['a', 'b', 'a', 'c']) expect(await statusOf(handler, room)).toBe(200);
    expect(counted.calls).toBe(1);
    expect(logger.lines).toEqual([
      { level: 'warn', message: '[react-cas-token] Redis evicts keys when full.\\nA forged line?' },
      { level: 'warn', message: '[react-cas-token] It quotes [redacted].' },
    ]);
  });

  it('is not run for a request that never reaches the store (refused by authorize)', async () => {
    const { store, counted } = storeChecking(async () => []);
    const { handler } = handlerWith(store, () => false);
    expect(await statusOf(handler, 'a')).toBe(401);
    expect(counted.calls).toBe(0);
  });

  it('never makes a request wait: a check that never settles is given up after twice storeTimeoutMs, unlogged, and run again a minute later at the earliest', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, counted } = storeChecking(() => new Promise(() => {}));
    const { handler, logger } = handlerWith(store);

    expect(await statusOf(handler, 'a')).toBe(200);
    expect(counted.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * STORE_TIMEOUT_MS);
    expect(await statusOf(handler, 'b')).toBe(200);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(await statusOf(handler, 'c')).toBe(200);
    expect(counted.calls).toBe(1);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(await statusOf(handler, 'd')).toBe(200);
    expect(counted.calls).toBe(2);
    expect(logger.lines).toEqual([]);
  });

  it('runs a check that rejected (the store unreachable) again a minute later at the earliest, and logs what that one finds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    let reachable = false;
    const { store, counted } = storeChecking(async () => {
      if (!reachable) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      return ["Redis's maxmemory-policy is allkeys-lru."];
    });
    const { handler, logger } = handlerWith(store);

    expect(await statusOf(handler, 'a')).toBe(200);
    await vi.advanceTimersByTimeAsync(30_000);
    reachable = true;
    expect(await statusOf(handler, 'b')).toBe(200);
    expect([counted.calls, logger.lines]).toEqual([1, []]);

    await vi.advanceTimersByTimeAsync(30_000);
    expect(await statusOf(handler, 'c')).toBe(200);
    await vi.advanceTimersByTimeAsync(0);
    expect(counted.calls).toBe(2);
    expect(logger.lines).toEqual([{ level: 'warn', message: "[react-cas-token] Redis's maxmemory-policy is allkeys-lru." }]);
  });

  it('takes a check that throws at once, or resolves to something other than lines, without failing a request', async () => {
    const throwing = handlerWith({
      ...storeChecking(async () => []).store,
      checkSettings: () => {
        throw new Error('not implemented');
      },
    });
    const odd = handlerWith({ ...storeChecking(async () => []).store, checkSettings: async () => 'not a list' as unknown as string[] });
    for (const { handler, logger } of [throwing, odd]) {
      expect(await statusOf(handler, 'a')).toBe(200);
      await vi.waitFor(() => expect(logger.lines).toEqual([]));
    }
  });
});
