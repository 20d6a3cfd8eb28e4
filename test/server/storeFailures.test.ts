// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createCasTokenHandler,
  createMemoryTokenStore,
  KEEP_PLACE_MS,
  type CasTokenHandlerOptions,
  type TokenStore,
} from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { captureLogger, credentials, jwtWith, startCas, tokenRequest, track, until } from './casTestKit';

const NOW = Date.UTC(2030, 0, 1);
type Operation = keyof TokenStore;

/** A memory store whose operations can be made to stall (never settle) or fail, as Redis does when it is down. */
function unreliableStore(base: TokenStore = createMemoryTokenStore()) {
  const stalled = new Set<Operation>();
  const failing = new Set<Operation>();
  const calls: Operation[] = [];
  function wrap<A extends unknown[], R>(name: Operation, operation: (...args: A) => R) {
    return (...args: A): Promise<Awaited<R>> => {
      calls.push(name);
      if (stalled.has(name)) return new Promise(() => {});
      if (failing.has(name)) return Promise.reject(new Error(`redis: connection lost\nwhile running ${name}`));
      return Promise.resolve(operation(...args));
    };
  }
  const store: TokenStore = {
    get: wrap('get', (key: string) => base.get(key)),
    setIfAbsent: wrap('setIfAbsent', (key: string, value: string, ttlMs: number) => base.setIfAbsent(key, value, ttlMs)),
    deleteIfEqual: wrap('deleteIfEqual', (key: string, value: string) => base.deleteIfEqual(key, value)),
  };
  return { store, base, stalled, failing, calls };
}

let cas: MockCas;
let logger: ReturnType<typeof captureLogger>;
beforeEach(async () => {
  cas = await startCas({ lifetimeMs: 3_600_000 });
  logger = captureLogger();
});
afterEach(async () => {
  vi.useRealTimers();
  await cas.close();
});

function handlerFor(options: Partial<CasTokenHandlerOptions> = {}) {
  return createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger, ...options });
}

async function read(response: Response) {
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

async function tokenOf(response: Response): Promise<string> {
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

describe('a store that stalls', () => {
  it('answers 503 store-unavailable with Retry-After after storeTimeoutMs when get never settles, and leaves no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, stalled } = unreliableStore();
    stalled.add('get');
    const handler = handlerFor({ store, storeTimeoutMs: 1_500 });
    const first = track(handler(tokenRequest('room-1')));
    await vi.advanceTimersByTimeAsync(500);
    const joined = track(handler(tokenRequest('room-1')));

    await vi.advanceTimersByTimeAsync(999);
    expect([first.settled, joined.settled]).toEqual([false, false]);
    await vi.advanceTimersByTimeAsync(1);
    for (const request of [first, joined]) {
      expect(await read(await request.promise)).toEqual({
        status: 503,
        retryAfter: '1',
        body: { error: 'store-unavailable', message: 'The token store is not answering; try again in a moment.' },
      });
    }
    expect(logger.lines).toEqual([{ level: 'error', message: expect.stringContaining('did not answer in time (storeTimeoutMs: 1500)') }]);
    expect(vi.getTimerCount()).toBe(0);
    expect(cas.calls).toBe(0);
  });

  it('serves the room again as soon as the store answers again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, stalled } = unreliableStore();
    stalled.add('get');
    const handler = handlerFor({ store });
    const stuck = handler(tokenRequest('room-1'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await stuck).status).toBe(503);

    stalled.clear();
    expect((await handler(tokenRequest('room-1'))).status).toBe(200);
  });

  it('answers 503 when taking the room\'s lock stalls, without calling CAS', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, stalled } = unreliableStore();
    stalled.add('setIfAbsent');
    const answer = track(handlerFor({ store })(tokenRequest('room-1')));
    await vi.advanceTimersByTimeAsync(999);
    expect(answer.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await read(await answer.promise)).body.error).toBe('store-unavailable');
    expect(cas.calls).toBe(0);
  });

  it('answers 503 when swapping the lock for the token stalls, and hands the token to nobody', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, stalled, calls } = unreliableStore();
    stalled.add('deleteIfEqual');
    const handler = handlerFor({ store });
    const answer = track(handler(tokenRequest('room-1')));
    await until(() => calls.includes('deleteIfEqual'), 'the swap');
    await vi.advanceTimersByTimeAsync(999);
    expect(answer.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const response = await read(await answer.promise);
    expect(response).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'store-unavailable' } });
    expect(JSON.stringify(response)).not.toContain('eyJ');
    expect(cas.calls).toBe(1);
  });

  it('bounds the wait on a lock whose holder stalled, and serves the room once the lock has run out by itself', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, stalled, calls } = unreliableStore();
    stalled.add('deleteIfEqual');
    const handler = handlerFor({ store });
    const holder = handler(tokenRequest('room-1'));
    await until(() => calls.includes('deleteIfEqual'), 'the swap');
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await holder).status).toBe(503);

    stalled.clear();
    // The lock was taken at NOW and lives timeoutMs + 4 x storeTimeoutMs = 14 s. A request
    // waiting on it gives up within its own 14 s, with too little time left to call CAS itself.
    const waiter = track(handler(tokenRequest('room-1')));
    await vi.advanceTimersByTimeAsync(12_900);
    expect(waiter.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(await read(await waiter.promise)).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'cas-busy' } });
    expect(cas.calls).toBe(1);

    expect(await tokenOf(await handler(tokenRequest('room-1')))).toEqual(expect.any(String));
    expect(cas.calls).toBe(2);
  });
});

describe('a store that fails', () => {
  it('answers 503 store-unavailable and logs one safe line when the store rejects', async () => {
    const { store, failing } = unreliableStore();
    failing.add('get');
    const handler = handlerFor({ store });
    const answers = await Promise.all(Array.from({ length: 10 }, () => handler(tokenRequest('room-1')).then(read)));
    expect(new Set(answers.map((answer) => `${answer.status} ${answer.retryAfter} ${String(answer.body.error)}`))).toEqual(
      new Set(['503 1 store-unavailable']),
    );
    expect(logger.lines).toEqual([
      { level: 'error', message: '[react-cas-token] The token store failed; answering 503 store-unavailable. Error: redis: connection lost\\nwhile running get' },
    ]);
    failing.clear();
    expect((await handler(tokenRequest('room-1'))).status).toBe(200);
  });

  it('logs an outage once per 10 s, however many requests it fails, counting the ones it did not log', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const { store, failing } = unreliableStore();
    failing.add('get');
    const handler = handlerFor({ store });
    const ask = (rooms: number) => Promise.all(Array.from({ length: rooms }, (_, index) => handler(tokenRequest(`room-${index}`))));

    await ask(50);
    vi.setSystemTime(NOW + 9_999);
    await ask(20);
    expect(logger.lines).toHaveLength(1);

    vi.setSystemTime(NOW + 10_000);
    await ask(1);
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]!.message).toContain('(69 more store failures since the last line)');
  });

  it('answers 503 when a synchronous store throws', async () => {
    const store: TokenStore = {
      get: () => {
        throw new TypeError('store broken');
      },
      setIfAbsent: () => true,
      deleteIfEqual: () => true,
    };
    expect((await read(await handlerFor({ store })(tokenRequest('room-1')))).body.error).toBe('store-unavailable');
  });
});

describe('a full store', () => {
  it('answers a new room 503 too-many-rooms with the store\'s Retry-After, without calling CAS', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 2 });
    const handler = handlerFor({ store });
    await handler(tokenRequest('room-a'));
    await handler(tokenRequest('room-b'));
    vi.setSystemTime(NOW + 60_000);
    expect(await read(await handler(tokenRequest('room-c')))).toEqual({
      status: 503,
      // Room a's token rotates at 55 min, leaves the store a second before, and its place frees 30 s later.
      retryAfter: String((3_300_000 - 1_000 + KEEP_PLACE_MS - 60_000) / 1000),
      body: { error: 'too-many-rooms', message: 'This server holds tokens for as many rooms as it can; try again later.' },
    });
    expect(cas.calls).toBe(2);
  });

  it('keeps a busy room\'s token through a flood of 2,000 new room names, refusing the new names it has no place for', async () => {
    const handler = handlerFor({ store: createMemoryTokenStore({ maxEntries: 20 }) });
    const busy = await handler(tokenRequest('busy-room')).then(tokenOf);
    const statuses = new Map<number, number>();
    for (let index = 0; index < 2_000; index += 1) {
      const response = await handler(tokenRequest(`made-up-${index}`));
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (index % 100 === 0) expect(await handler(tokenRequest('busy-room')).then(tokenOf)).toBe(busy);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 19, 503: 1_981 });
    expect(await handler(tokenRequest('busy-room')).then(tokenOf)).toBe(busy);
    expect(cas.calls).toBe(20);
    // One warning for the whole flood, not one per refused name.
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining('New rooms are refused (503 too-many-rooms)') }]);
  });

  it("frees the place of a room whose server died holding its lock once the lock's budget has run out, and says when", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const { store, stalled, calls } = unreliableStore(createMemoryTokenStore({ maxEntries: 1 }));
    // The holder never gets to swap its lock for the token: it is as good as dead.
    stalled.add('deleteIfEqual');
    const handler = handlerFor({ store });
    const holder = handler(tokenRequest('room-1'));
    await until(() => calls.includes('deleteIfEqual'), 'the swap');
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await holder).status).toBe(503);
    stalled.clear();

    // The lock, taken at NOW, lives the operation's budget (timeoutMs + 4 x storeTimeoutMs = 14 s);
    // its place is kept 30 s more.
    expect(await read(await handler(tokenRequest('room-2')))).toMatchObject({
      status: 503,
      retryAfter: String((14_000 + KEEP_PLACE_MS - 1_000) / 1000),
      body: { error: 'too-many-rooms' },
    });
    vi.setSystemTime(NOW + 14_000 + KEEP_PLACE_MS);
    expect(await tokenOf(await handler(tokenRequest('room-2')))).toMatch(/^ey/);
  });

  it('still rotates the token of a room in use when the store is full', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor({ store: createMemoryTokenStore({ maxEntries: 3 }) });
    const first = await handler(tokenRequest('busy-room')).then(tokenOf);
    vi.setSystemTime(NOW + 60_000);
    await handler(tokenRequest('other-1'));
    await handler(tokenRequest('other-2'));
    expect((await handler(tokenRequest('newcomer'))).status).toBe(503);

    vi.setSystemTime(NOW + 3_300_000); // busy-room's rotation
    const second = await handler(tokenRequest('busy-room')).then(tokenOf);
    expect(second).not.toBe(first);
    expect((await handler(tokenRequest('newcomer'))).status).toBe(503);
  });
});

describe('entries the handler cannot use', () => {
  function storeHolding(value: unknown) {
    const base = createMemoryTokenStore();
    const store: TokenStore = {
      get: (key) => (key === 'room:room-1' && value !== undefined ? (value as string) : base.get(key)),
      setIfAbsent: (key, next, ttlMs) => (key === 'room:room-1' && value !== undefined ? false : base.setIfAbsent(key, next, ttlMs)),
      deleteIfEqual: (key, expected) => {
        if (key === 'room:room-1' && value !== undefined) {
          const equal = expected === (typeof value === 'string' ? value : JSON.stringify(value));
          if (equal) value = undefined;
          return equal;
        }
        return base.deleteIfEqual(key, expected);
      },
    };
    return store;
  }

  it.each([
    ['not JSON', 'not json'],
    ['JSON without a token', '{"hello":"world"}'],
    ['a token that is not a JWT', JSON.stringify({ token: 'abc', expiresAt: null, rotateAt: NOW + 60_000 })],
    ['an expiresAt that is not the token\'s', JSON.stringify({ token: jwtWith({ exp: NOW / 1000 + 3_600 }), expiresAt: NOW, rotateAt: NOW + 60_000 })],
    ['a rotation after expiry', JSON.stringify({ token: jwtWith({ exp: NOW / 1000 - 10 }), expiresAt: NOW - 10_000, rotateAt: NOW + 60_000 })],
    ['something huge', 'x'.repeat(10_000_000)],
  ])('replaces an entry holding %s once, with a log line, then reuses the new token', async (_case, value) => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor({ store: storeHolding(value) });
    const tokens = new Set<string>();
    for (let request = 0; request < 5; request += 1) tokens.add(await handler(tokenRequest('room-1')).then(tokenOf));
    expect(tokens.size).toBe(1);
    expect(cas.calls).toBe(1);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining('cannot read') }]);
  });

  it('replaces an entry still in the store past its rotation, and says the store may ignore ttlMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const stale = JSON.stringify({ token: jwtWith({ exp: NOW / 1000 + 600 }), expiresAt: NOW + 600_000, rotateAt: NOW - 1 });
    const handler = handlerFor({ store: storeHolding(stale) });
    const token = await handler(tokenRequest('room-1')).then(tokenOf);
    expect(stale).not.toContain(token);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining('does the store ignore ttlMs?') }]);
  });

  it('replaces a lock a store kept past its time (a store that ignores ttlMs), rather than block the room for ever', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const deadLock = JSON.stringify({ lock: 'a-server-that-died', until: NOW - 1 });
    const token = await handlerFor({ store: storeHolding(deadLock) })(tokenRequest('room-1')).then(tokenOf);
    expect(token).toMatch(/^ey/);
    expect(cas.calls).toBe(1);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining('past its time') }]);
  });

  it('adopts an entry a store hands back already parsed (as Upstash\'s client does), without replacing it', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const token = jwtWith({ exp: NOW / 1000 + 3_600 });
    const handler = handlerFor({ store: storeHolding({ token, expiresAt: NOW + 3_600_000, rotateAt: NOW + 3_300_000 }) });
    expect(await (await handler(tokenRequest('room-1'))).json()).toEqual({ token, refreshIn: 3_300_000, expiresIn: 3_600_000, checkIn: 8_000, seal: expect.any(String) });
    expect(cas.calls).toBe(0);
    expect(logger.lines).toEqual([]);
  });

  it("counts refreshIn and expiresIn from this server's answer for an entry another server stored", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const shared = createMemoryTokenStore();
    const token = await handlerFor({ store: shared })(tokenRequest('room-1')).then(tokenOf);
    vi.setSystemTime(NOW + 1_234_000);
    expect(await (await handlerFor({ store: shared })(tokenRequest('room-1'))).json()).toEqual({
      token,
      refreshIn: 3_300_000 - 1_234_000,
      expiresIn: 3_600_000 - 1_234_000,
      checkIn: 8_000,
      seal: expect.any(String),
    });
  });
});
