// @vitest-environment node
/*
 * A store that loses a room (Redis restarted without persistence, an eviction, a failover)
 * must not split the party: clients send back the token they hold with the proxy's seal of it,
 * and the proxy puts that token back instead of starting a second session. Nobody without the
 * API secret can make a seal, and a seal proves one token for one room until its rotation.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCasTokenHandler, createMemoryTokenStore, type CasTokenHandlerOptions, type TokenStore } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, captureLogger, credentials, startCas, startManualCas, tokenRequest, until, type ManualCas } from './casTestKit';

const NOW = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;

let cas: MockCas;
let logger: ReturnType<typeof captureLogger>;
beforeEach(async () => {
  cas = await startCas({ lifetimeMs: HOUR });
  logger = captureLogger();
  vi.useFakeTimers({ toFake: ['Date'], now: NOW });
});
afterEach(async () => {
  vi.useRealTimers();
  await cas.close();
});

/** A memory store that can lose everything at once, as Redis restarting without persistence. */
function losableStore() {
  let inner = createMemoryTokenStore();
  const store: TokenStore & { lose(): void } = {
    get: (key) => inner.get(key),
    setIfAbsent: (key, value, ttlMs) => inner.setIfAbsent(key, value, ttlMs),
    deleteIfEqual: (key, value) => inner.deleteIfEqual(key, value),
    extendIfEqual: (key, value, ttlMs) => inner.extendIfEqual!(key, value, ttlMs),
    lose: () => {
      inner = createMemoryTokenStore();
    },
  };
  return store;
}

function handlerFor(options: Partial<CasTokenHandlerOptions> = {}) {
  return createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger, ...options });
}

interface Answer {
  token: string;
  seal: string;
  expiresIn: number;
  refreshIn: number;
  checkIn: number;
}

async function ask(handler: (request: Request) => Promise<Response>, room: string, held?: string): Promise<Answer> {
  const response = await handler(tokenRequest(room, held === undefined ? {} : { headers: { 'x-cas-token-held': held } }));
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}

const heldOf = (answer: Pick<Answer, 'seal' | 'token'>) => `${answer.seal} ${answer.token}`;

describe('the seal', () => {
  it('comes with every token answer, the same for the same stored token, and holds neither the key nor the secret', async () => {
    const handler = handlerFor();
    const first = await ask(handler, 'movie-night');
    vi.setSystemTime(NOW + 60_000);
    const again = await ask(handler, 'movie-night');

    expect(again.token).toBe(first.token);
    expect(again.seal).toBe(first.seal);
    expect(first.seal).toMatch(/^v1\.\d+\.\d+\.[\w-]{43}$/);
    expect(first.checkIn).toBe(8_000);
    for (const secret of [API_KEY, API_SECRET]) expect(JSON.stringify(first)).not.toContain(secret);
  });

  it('is proof for one room only: another room is not given that token', async () => {
    const store = losableStore();
    const handler = handlerFor({ store });
    const mine = await ask(handler, 'room-a');
    store.lose();
    const other = await ask(handler, 'room-b', heldOf(mine));
    expect(other.token).not.toBe(mine.token);
    expect(cas.calls).toBe(2);
  });
});

describe('a store that lost the room', () => {
  it('gets the token a participant holds back, with no CAS call, and says so in the log', async () => {
    const store = losableStore();
    const handler = handlerFor({ store });
    const held = await ask(handler, 'movie-night');
    vi.setSystemTime(NOW + 10 * 60_000);

    store.lose();
    const restored = await ask(handler, 'movie-night', heldOf(held));
    // Someone who joins now, holding nothing, meets the party.
    const newcomer = await ask(handler, 'movie-night');

    expect(restored.token).toBe(held.token);
    expect(newcomer.token).toBe(held.token);
    expect(newcomer.seal).toBe(held.seal);
    // The same rotation as before the loss: 55 minutes after the token was first handed out.
    expect(newcomer.refreshIn).toBe(held.refreshIn - 10 * 60_000);
    expect(cas.calls).toBe(1);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining("Put a room's token back from a participant's sealed copy") }]);
  });

  it('gets back a short token too, whose rotation (half its life) falls between two milliseconds', async () => {
    // A minute-long token rotates halfway through its life: answered at an odd millisecond, that
    // is half a millisecond past one. The seal holds whole milliseconds, as it can be read back.
    cas.setLifetime(60_000);
    vi.setSystemTime(NOW + 1);
    const store = losableStore();
    const handler = handlerFor({ store });
    const held = await ask(handler, 'movie-night');
    vi.setSystemTime(NOW + 10_000);

    store.lose();
    const restored = await ask(handler, 'movie-night', heldOf(held));

    expect(held.seal).toMatch(/^v1\.\d+\.\d+\.[\w-]{43}$/);
    expect(restored.token).toBe(held.token);
    expect(cas.calls).toBe(1);
  });

  it('is the same for another proxy instance with the same secret', async () => {
    const store = losableStore();
    const held = await ask(handlerFor({ store }), 'movie-night');
    store.lose();
    const restored = await ask(handlerFor({ store }), 'movie-night', heldOf(held));
    expect(restored.token).toBe(held.token);
    expect(cas.calls).toBe(1);
  });

  it.each([
    ['a seal made with another secret', async (held: Answer) => {
      const otherCas = await startCas({ apiSecret: `${API_SECRET}-rotated` });
      try {
        const other = createCasTokenHandler({ ...credentials(otherCas), apiSecret: `${API_SECRET}-rotated`, authorize: () => true, logger });
        const theirs = await ask(other, 'movie-night');
        // Their seal of their token proves nothing here; nor does it for ours.
        return `${theirs.seal.replace(/^(v1\.\d+\.\d+\.)/, held.seal.match(/^v1\.\d+\.\d+\./)![0])} ${held.token}`;
      } finally {
        await otherCas.close();
      }
    }],
    ['another token under the seal', async (held: Answer) => `${held.seal} ${held.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`],
    ['a later rotation written into the seal', async (held: Answer) => `${held.seal.replace(/^(v1\.\d+\.)(\d+)/, (_, head: string, at: string) => `${head}${Number(at) + HOUR}`)} ${held.token}`],
    ['a seal without its token', async (held: Answer) => held.seal],
    ['a header of 10,000 characters', async (held: Answer) => `${held.seal} ${held.token}${'x'.repeat(10_000)}`],
    ['garbage', async () => 'v1.. x y'],
  ])('does not trust %s: a new token is fetched', async (_case, forge) => {
    const store = losableStore();
    const handler = handlerFor({ store });
    const held = await ask(handler, 'movie-night');
    const header = await forge(held);
    store.lose();
    const answer = await ask(handler, 'movie-night', header);
    expect(answer.token).not.toBe(held.token);
    expect(logger.lines.filter((line) => line.message.includes('Put a room'))).toEqual([]);
  });

  it('does not put a token back within a second of its rotation: the next one is fetched', async () => {
    const store = losableStore();
    const handler = handlerFor({ store });
    const held = await ask(handler, 'movie-night');
    // The rotation is 55 minutes in; the store forgets the entry a second before it.
    vi.setSystemTime(NOW + 55 * 60_000 - 1_500);
    store.lose();
    const answer = await ask(handler, 'movie-night', heldOf(held));
    expect(answer.token).not.toBe(held.token);
    expect(cas.calls).toBe(2);
  });

  it("puts the party's token back in place of one handed out since the loss: the newcomer switches, not the party", async () => {
    const store = losableStore();
    const handler = handlerFor({ store });
    const party = await ask(handler, 'movie-night');
    vi.setSystemTime(NOW + 60_000);
    store.lose();
    const newcomer = await ask(handler, 'movie-night'); // before any check: a second session
    vi.setSystemTime(NOW + 65_000);
    const check = await ask(handler, 'movie-night', heldOf(party));
    const newcomersCheck = await ask(handler, 'movie-night', heldOf(newcomer));

    expect(newcomer.token).not.toBe(party.token);
    expect(check.token).toBe(party.token);
    expect(newcomersCheck.token).toBe(party.token);
    expect(cas.calls).toBe(2);
  });

  it('keeps the stored token when a sealed one rotates later (made since): the older session wins, so two groups never take turns', async () => {
    const store = losableStore();
    const handler = handlerFor({ store });
    const party = await ask(handler, 'movie-night');
    store.lose();
    vi.setSystemTime(NOW + 60_000);
    const newcomer = await ask(handler, 'movie-night');
    store.lose();
    // The party's token comes back first; the newcomer's later check does not undo it.
    expect((await ask(handler, 'movie-night', heldOf(party))).token).toBe(party.token);
    expect((await ask(handler, 'movie-night', heldOf(newcomer))).token).toBe(party.token);
    expect((await ask(handler, 'movie-night', heldOf(party))).token).toBe(party.token);
  });

});

describe('a participant checking in while a server is about to start a second session', () => {
  let manual: ManualCas;
  beforeEach(async () => {
    vi.useRealTimers();
    manual = await startManualCas({ lifetimeMs: HOUR });
  });
  afterEach(() => manual.close());

  it('puts its token back in place of the lock, and that server hands out the same token', async () => {
    const store = losableStore();
    const options = { ...credentials({ url: manual.url }), authorize: () => true, logger, store };
    const a = createCasTokenHandler(options);
    const b = createCasTokenHandler(options);
    const first = a(tokenRequest('movie-night'));
    await until(() => manual.waiting === 1);
    manual.answer();
    const held = (await (await first).json()) as Answer;

    store.lose();
    // A newcomer on server A: the room is missing, A takes the lock and asks CAS.
    const newcomer = a(tokenRequest('movie-night'));
    await until(() => manual.waiting === 1);
    // A participant's check on server B gets its token back, in place of A's lock.
    const restored = await ask(b, 'movie-night', heldOf(held));
    manual.answer();
    const joined = (await (await newcomer).json()) as Answer;

    expect(restored.token).toBe(held.token);
    expect(joined.token).toBe(held.token);
    expect(manual.calls).toBe(2); // A's call was wasted, not the party
  });
});

describe('room names', () => {
  it('answers 400 invalid-room for a room with a lone surrogate, which has no bytes of its own in a store', async () => {
    const handler = handlerFor({ room: (request) => new URL(request.url).searchParams.get('name') === 'bad' ? 'room-\uD800' : 'room-\uD83C\uDFAC' });
    const bad = await handler(new Request('http://app.test/api/cas-token?name=bad'));
    const good = await handler(new Request('http://app.test/api/cas-token?name=good'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid-room');
    expect(good.status).toBe(200);
    expect(cas.calls).toBe(1);
  });
});
