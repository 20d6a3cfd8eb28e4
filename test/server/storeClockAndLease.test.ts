// @vitest-environment node
/*
 * Two things a shared store gives every server: one clock (`now`), so a server whose own clock is
 * off reads every stored time right, and a lease on a room's lock (`extendIfEqual`) that its
 * holder renews, so a server that dies mid-call holds the room for one lease only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCasTokenHandler, createMemoryTokenStore, type TokenStore } from 'react-cas-token/server';
import { captureLogger, credentials, startManualCas, tokenRequest, until, type ManualCas } from './casTestKit';

const HOUR = 3_600_000;

let cas: ManualCas;
let logger: ReturnType<typeof captureLogger>;
beforeEach(async () => {
  cas = await startManualCas({ lifetimeMs: HOUR });
  logger = captureLogger();
});
afterEach(async () => {
  vi.useRealTimers();
  await cas.close();
});

/** A view of `store` for one server, which can die: from then on none of its calls ever settles. */
function serverView(store: TokenStore) {
  let dead = false;
  const never = new Promise<never>(() => {});
  const call =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R | Promise<never> =>
      dead ? never : fn(...args);
  const view: TokenStore = {
    get: call((key) => store.get(key)),
    setIfAbsent: call((key, value, ttlMs) => store.setIfAbsent(key, value, ttlMs)),
    deleteIfEqual: call((key, value) => store.deleteIfEqual(key, value)),
    extendIfEqual: call((key, value, ttlMs) => store.extendIfEqual!(key, value, ttlMs)),
  };
  return { view, die: () => (dead = true) };
}

describe("a room's lock", () => {
  it('is renewed while its holder waits for CAS, however long CAS takes within timeoutMs', async () => {
    const store = createMemoryTokenStore();
    const handler = createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger, store, storeTimeoutMs: 200, timeoutMs: 8_000 });
    const other = createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger, store, storeTimeoutMs: 200, timeoutMs: 8_000 });
    const first = handler(tokenRequest('lobby'));
    await until(() => cas.waiting === 1);
    // The lease is 2 s: waiting 4 s, the other server would take over if nothing renewed it.
    const second = other(tokenRequest('lobby'));
    await sleep(4_000);
    expect(cas.waiting).toBe(1);
    cas.answer();
    const [a, b] = await Promise.all([first, second]);
    expect(((await a.json()) as { token: string }).token).toBe(((await b.json()) as { token: string }).token);
    expect(cas.calls).toBe(1);
  }, 15_000);

  it('of a server that died mid-call frees the room within its lease (2 s here), not the whole budget', async () => {
    const store = createMemoryTokenStore();
    const dying = serverView(store);
    const options = { ...credentials(cas), authorize: () => true, logger, storeTimeoutMs: 200, timeoutMs: 8_000 };
    const doomed = createCasTokenHandler({ ...options, store: dying.view });
    const survivor = createCasTokenHandler({ ...options, store });
    void doomed(tokenRequest('lobby'));
    await until(() => cas.waiting === 1);
    dying.die();

    const askedAt = Date.now();
    const answer = survivor(tokenRequest('lobby'));
    while (cas.waiting < 2 && Date.now() - askedAt < 10_000) await sleep(20);
    const tookOverMs = Date.now() - askedAt;
    cas.answer();
    expect((await answer).status).toBe(200);
    // Budget: timeoutMs + 4 x storeTimeoutMs = 8.8 s. Lease: 2 s, plus the survivor's polling.
    expect(tookOverMs).toBeLessThan(4_000);
    expect(tookOverMs).toBeGreaterThanOrEqual(1_000);
  }, 15_000);
});

describe("the store's clock", () => {
  it('is the clock stored times are read on, and a server whose own clock is off by minutes says so once', async () => {
    const memory = createMemoryTokenStore();
    const values = new Map<string, string>();
    // The store's clock is 5 minutes behind this server's: this server's clock is ahead.
    const store: TokenStore = {
      get: (key) => memory.get(key),
      setIfAbsent: (key, value, ttlMs) => {
        values.set(key, value);
        return memory.setIfAbsent(key, value, ttlMs);
      },
      deleteIfEqual: (key, value) => memory.deleteIfEqual(key, value),
      now: () => Date.now() - 300_000,
    };
    const handler = createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger, store });
    const answers: Response[] = [];
    for (let request = 0; request < 3; request++) {
      const answer = handler(tokenRequest('lobby'));
      if (request === 0) {
        await until(() => cas.waiting === 1);
        cas.answer();
      }
      answers.push(await answer);
    }

    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { token: string; expiresIn: number; refreshIn: number }[];
    expect(new Set(bodies.map((body) => body.token)).size).toBe(1);
    expect(cas.calls).toBe(1);
    // The entry's times are on the store's clock: five minutes before this server's.
    const entry = JSON.parse(values.get('room:lobby')!) as { rotateAt: number; expiresAt: number };
    const exp = JSON.parse(Buffer.from(bodies[0]!.token.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(exp * 1000 - entry.expiresAt).toBeGreaterThanOrEqual(300_000 - 100);
    expect(exp * 1000 - entry.expiresAt).toBeLessThanOrEqual(300_000 + 100);
    // And the answers count from the store's now: an hour's token, rotating 5 minutes before expiry.
    for (const body of bodies) {
      expect(body.expiresIn).toBeGreaterThan(HOUR - 5_000);
      expect(body.refreshIn).toBeGreaterThan(HOUR - 300_000 - 5_000);
    }
    expect(logger.lines.filter((line) => line.message.includes("the token store's"))).toEqual([
      { level: 'warn', message: expect.stringContaining("This server's clock is 300 s ahead of the token store's") },
    ]);
  });

  it('makes a request fail as store-unavailable, not write times on a wrong clock, when it cannot be read', async () => {
    const memory = createMemoryTokenStore();
    const store: TokenStore = {
      get: (key) => memory.get(key),
      setIfAbsent: (key, value, ttlMs) => memory.setIfAbsent(key, value, ttlMs),
      deleteIfEqual: (key, value) => memory.deleteIfEqual(key, value),
      now: () => Promise.reject(new Error('connection refused')),
    };
    const handler = createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger, store });
    const response = await handler(tokenRequest('lobby'));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toBe('store-unavailable');
    expect(cas.calls).toBe(0);
  });
});
