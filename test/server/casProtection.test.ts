// @vitest-environment node
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCasTokenHandler, createMemoryTokenStore, type CasTokenHandlerOptions, type TokenStore } from 'react-cas-token/server';
import {
  captureLogger,
  credentials,
  startCas,
  jwtWith,
  startHttpServer,
  startManualCas,
  tokenRequest,
  track,
  turns,
  until,
  type ManualCas,
  type TestServer,
} from './casTestKit';

const NOW = Date.UTC(2030, 0, 1);

let cas: ManualCas;
let logger: ReturnType<typeof captureLogger>;
beforeEach(async () => {
  cas = await startManualCas();
  logger = captureLogger();
});
afterEach(async () => {
  vi.useRealTimers();
  await cas.close();
});

function handlerFor(options: Partial<CasTokenHandlerOptions> = {}, casUrl = cas.url) {
  return createCasTokenHandler({ ...credentials({ url: casUrl }), authorize: () => true, logger, ...options });
}

async function read(response: Response) {
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

describe('a cap on concurrent CAS calls', () => {
  it('never has more than maxConcurrentCasCalls CAS calls open, and serves every room in turn', async () => {
    const handler = handlerFor({ maxConcurrentCasCalls: 4 });
    const answers = Array.from({ length: 40 }, (_, index) => handler(tokenRequest(`room-${index}`)));
    let answered = 0;
    while (answered < 40) {
      await until(() => cas.waiting === Math.min(4, 40 - answered), 'CAS to have its next four calls');
      // Give any call beyond the cap the chance to arrive before checking.
      await turns(200);
      expect(cas.waiting).toBe(Math.min(4, 40 - answered));
      answered += cas.waiting;
      cas.answer();
    }
    const statuses = await Promise.all(answers.map(async (answer) => (await answer).status));
    expect(statuses).toEqual(Array.from({ length: 40 }, () => 200));
    expect(cas.calls).toBe(40);
  });

  it('answers 503 cas-busy with Retry-After at once when 64 rooms per slot are already waiting', async () => {
    const handler = handlerFor({ maxConcurrentCasCalls: 1 });
    const first = handler(tokenRequest('room-0'));
    const queued = Array.from({ length: 64 }, (_, index) => track(handler(tokenRequest(`queued-${index}`))));
    await until(() => cas.waiting === 1);

    expect(await read(await handler(tokenRequest('one-too-many')))).toEqual({
      status: 503,
      retryAfter: '1',
      body: { error: 'cas-busy', message: 'Too many rooms are waiting for the token service; try again in a moment.' },
    });
    expect(queued.some((request) => request.settled)).toBe(false);
    cas.answer();
    expect((await first).status).toBe(200);
    for (let served = 0; served < 64; served += 1) {
      await until(() => cas.waiting === 1);
      cas.answer();
    }
    expect((await Promise.all(queued.map(async ({ promise }) => (await promise).status))).every((status) => status === 200)).toBe(true);
  });

  it('turns a room away with cas-busy once it has waited for a slot as long as its operation allows', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    // Budget timeoutMs + 4 x storeTimeoutMs = 10 s + 4 s; waiting for a slot may use what the
    // CAS call and storing its token do not need: 3 s.
    const handler = handlerFor({ maxConcurrentCasCalls: 1, timeoutMs: 10_000, storeTimeoutMs: 1_000 });
    const holder = track(handler(tokenRequest('room-0')));
    await until(() => cas.waiting === 1);
    const waiting = track(handler(tokenRequest('room-1')));

    await vi.advanceTimersByTimeAsync(2_999);
    expect(waiting.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await read(await waiting.promise)).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'cas-busy' } });
    expect(cas.calls).toBe(1);
    expect(holder.settled).toBe(false);
    cas.answer();
    expect((await holder.promise).status).toBe(200);
  });
});

describe('a failed CAS call, remembered for every room (CAS is asked for no room)', () => {
  it("honours CAS's Retry-After: no CAS call for that room until it has passed, and every answer says how long is left", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor();
    const first = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.fail(503, { 'Retry-After': '120' });
    expect(await read(await first)).toEqual({
      status: 502,
      retryAfter: '120',
      body: { error: 'cas-http', message: 'The token service answered with an error.' },
    });

    for (let second = 0; second < 120; second += 1) {
      vi.setSystemTime(NOW + second * 1_000 + 500);
      const response = await read(await handler(tokenRequest('room-1')));
      expect(response).toMatchObject({ status: 502, retryAfter: String(120 - second), body: { error: 'cas-http' } });
    }
    expect(cas.calls).toBe(1);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringMatching(/HTTP 503 and asked to wait 120 s\. Requests get this answer for the next 120 s, then one asks CAS again\./) }]);

    vi.setSystemTime(NOW + 120_000);
    const again = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.answer();
    expect((await again).status).toBe(200);
    expect(cas.calls).toBe(2);
  });

  it('remembers a failure for failureCacheMs (2 s by default) when CAS gives no Retry-After', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor();
    const first = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    await cas.close(); // no answer at all: a network failure
    expect(await read(await first)).toMatchObject({ status: 502, retryAfter: '2', body: { error: 'cas-network' } });

    vi.setSystemTime(NOW + 1_999);
    expect(await read(await handler(tokenRequest('room-1')))).toMatchObject({ status: 502, retryAfter: '1', body: { error: 'cas-network' } });
    expect(cas.calls).toBe(1);
    cas = await startManualCas();
  });

  it('asks CAS again for the room once failureCacheMs has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor({ failureCacheMs: 2_000 });
    const first = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.fail(500);
    expect((await first).status).toBe(502);

    vi.setSystemTime(NOW + 2_000);
    const second = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.answer();
    expect((await second).status).toBe(200);
    expect(cas.calls).toBe(2);
  });

  it('remembers it for every room: another room gets the same answer without a CAS call', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor();
    const first = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.fail(500);
    expect((await first).status).toBe(502);
    expect(await read(await handler(tokenRequest('room-2')))).toMatchObject({ status: 502, retryAfter: '2', body: { error: 'cas-http' } });
    expect(cas.calls).toBe(1);
  });

  it('once the time is up, lets one request ask CAS while the others get the failure a second longer; its success serves everyone', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor();
    const first = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.fail(500);
    expect((await first).status).toBe(502);

    vi.setSystemTime(NOW + 2_000);
    const probe = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    const others = await Promise.all(['room-2', 'room-3'].map(async (room) => read(await handler(tokenRequest(room)))));
    expect(others.map(({ status, retryAfter }) => [status, retryAfter])).toEqual([[502, '1'], [502, '1']]);
    expect(cas.calls).toBe(2);

    cas.answer();
    expect((await probe).status).toBe(200);
    const after = handler(tokenRequest('room-2'));
    await until(() => cas.waiting === 1);
    cas.answer();
    expect((await after).status).toBe(200);
    expect(cas.calls).toBe(3);
  });

  it("with failureCacheMs 0 asks CAS on every request, unless CAS asked for a pause", async () => {
    const handler = handlerFor({ failureCacheMs: 0 });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const response = handler(tokenRequest('room-1'));
      await until(() => cas.waiting === 1);
      cas.fail(500);
      expect(await read(await response)).toMatchObject({ status: 502, retryAfter: '1' });
      expect(cas.calls).toBe(attempt);
    }
    const paused = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    cas.fail(503, { 'Retry-After': '30' });
    expect((await read(await paused)).retryAfter).toBe('30');
    expect((await read(await handler(tokenRequest('room-1')))).retryAfter).toMatch(/^(29|30)$/);
    expect(cas.calls).toBe(4);
  });

  it('writes one log line per failed CAS call, however many requests shared it', async () => {
    const handler = handlerFor();
    const requests = Array.from({ length: 100 }, () => handler(tokenRequest('room-1')));
    await until(() => cas.waiting === 1);
    cas.fail(500);
    const statuses = await Promise.all(requests.map(async (request) => (await request).status));
    expect(new Set(statuses)).toEqual(new Set([502]));
    for (let index = 0; index < 100; index += 1) await handler(tokenRequest('room-1'));
    expect(logger.lines).toHaveLength(1);
    expect(cas.calls).toBe(1);
  });
});

describe("tokens read on the server's own clock", () => {
  let server: TestServer;
  let token: string;
  beforeEach(async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token }));
    });
  });
  afterEach(async () => {
    await server.close();
  });

  it.each([
    ['already expired, issued long ago (not clock skew: the server trusts its clock)', { iat: NOW / 1000 - 7_200, exp: NOW / 1000 - 3_600 }],
    ['already expired, without iat', { exp: NOW / 1000 - 1 }],
    ['expiring in one second', { iat: NOW / 1000, exp: NOW / 1000 + 1 }],
  ])('refuses a token %s as 502 cas-invalid-token, and neither hands it out nor stores it', async (_case, claims) => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    token = jwtWith(claims);
    const store = createMemoryTokenStore();
    const handler = handlerFor({ store }, server.url);
    const response = await read(await handler(tokenRequest('room-1')));
    expect(response).toEqual({
      status: 502,
      retryAfter: '2',
      body: { error: 'cas-invalid-token', message: 'The token service gave a token that cannot be used.' },
    });
    expect(JSON.stringify(response)).not.toContain(token);
    expect(await store.get('room:room-1')).toBeUndefined();
    expect(logger.lines).toEqual([{ level: 'error', message: expect.stringMatching(/CAS gave a token that (had already expired|expires in 1000 ms) on this server's clock/) }]);
  });

  it("hands out a token from a CAS whose clock is ahead (iat in the future) until CAS says it expires, and names the skew", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    // CAS's clock is 10 minutes ahead: the hour it gives ends 10 minutes sooner than exp reads here.
    token = jwtWith({ iat: NOW / 1000 + 600, exp: NOW / 1000 + 600 + 3_600 });
    const handler = handlerFor({}, server.url);
    const body = (await (await handler(tokenRequest('room-1'))).json()) as { expiresIn: number; refreshIn: number };
    expect(body.expiresIn).toBe(3_600_000);
    expect(body.refreshIn).toBe(3_300_000);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining("CAS's clock is 600 s ahead of this server's") }]);
  });

  it('names a CAS clock behind (a token issued 10 minutes before it arrived) once in 10 minutes, and never lengthens the token for it', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const issuedLongAgo = (now: number) => jwtWith({ iat: now / 1000 - 600, exp: now / 1000 + 400 });
    token = issuedLongAgo(NOW);
    const handler = handlerFor({}, server.url);
    const body = (await (await handler(tokenRequest('room-1'))).json()) as { expiresIn: number; refreshIn: number };
    expect(body.expiresIn).toBe(400_000); // exp read on this server's clock, as it is
    expect(body.refreshIn).toBe(200_000);

    vi.setSystemTime(NOW + 200_000); // the rotation: CAS is asked again, and is still behind
    token = issuedLongAgo(NOW + 200_000);
    expect((await handler(tokenRequest('room-1'))).status).toBe(200);
    expect(server.calls).toBe(2);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining('issued 600 s before it arrived') }]);
  });

  /** A memory store whose clock reads `offsetMs` from this server's, as Redis's TIME would. */
  function storeWithClock(offsetMs: number): TokenStore {
    const inner = createMemoryTokenStore();
    return {
      get: (key) => inner.get(key),
      setIfAbsent: (key, value, ttlMs) => inner.setIfAbsent(key, value, ttlMs),
      deleteIfEqual: (key, value) => inner.deleteIfEqual(key, value),
      now: () => Date.now() + offsetMs,
    };
  }

  it("reads CAS's token on the store's clock when CAS and the store agree and this server's clock is 5 minutes ahead: a 30 s token is handed out for its 30 s", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    // CAS and the store read NOW - 5 min; this server's clock reads NOW.
    token = jwtWith({ iat: (NOW - 300_000) / 1000, exp: (NOW - 300_000) / 1000 + 30 });
    const handler = handlerFor({ store: storeWithClock(-300_000) }, server.url);
    const response = await handler(tokenRequest('room-1'));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { expiresIn: number; refreshIn: number };
    expect(body.expiresIn).toBe(30_000);
    expect(body.refreshIn).toBe(15_000);
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining("This server's clock is 300 s ahead of the token store's") }]);
  });

  it("reads it on this server's clock when the store's clock alone is off: CAS's token keeps its life", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    token = jwtWith({ iat: NOW / 1000, exp: NOW / 1000 + 30 });
    const handler = handlerFor({ store: storeWithClock(300_000) }, server.url);
    const body = (await (await handler(tokenRequest('room-1'))).json()) as { expiresIn: number; refreshIn: number };
    expect(body).toMatchObject({ expiresIn: 30_000, refreshIn: 15_000 });
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining("This server's clock is 300 s behind the token store's") }]);
  });

  it('asks CAS again after the failure window instead of caching a bad token', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    token = jwtWith({ exp: NOW / 1000 - 1 });
    const handler = handlerFor({}, server.url);
    await handler(tokenRequest('room-1'));
    vi.setSystemTime(NOW + 5_000);
    token = jwtWith({ exp: NOW / 1000 + 3_600 });
    expect((await handler(tokenRequest('room-1'))).status).toBe(200);
    expect(server.calls).toBe(2);
  });

  it('hands out a token without exp for one hour: refreshIn 1 h, no expiresIn', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    token = jwtWith({ rid: 'no-exp', iat: NOW / 1000 - 86_400 });
    const handler = handlerFor({}, server.url);
    expect(await (await handler(tokenRequest('room-1'))).json()).toEqual({ token, refreshIn: 3_600_000, checkIn: 8_000, seal: expect.any(String) });
    vi.setSystemTime(NOW + 3_600_000 - 1_001);
    expect(await (await handler(tokenRequest('room-1'))).json()).toEqual({ token, refreshIn: 1_001, checkIn: 8_000, seal: expect.any(String) });
    vi.setSystemTime(NOW + 3_600_000 - 1_000);
    await handler(tokenRequest('room-1'));
    expect(server.calls).toBe(2);
  });
});

describe('a CAS that hangs, then comes back', () => {
  it('gives a call that hangs while CAS is failing a fresh one beside it every 2 s: the room is served within about 2 s of CAS coming back, not at the hung call\'s timeout', async () => {
    const mock = await startCas({ lifetimeMs: 3_600_000 });
    try {
      mock.setMode('error');
      const handler = createCasTokenHandler({ ...credentials(mock), authorize: () => true, logger, failureCacheMs: 200 });
      expect((await handler(tokenRequest('room-1'))).status).toBe(502);
      await sleep(300);
      mock.setMode('hang');
      const probe = handler(tokenRequest('room-1'));
      await sleep(500);
      mock.setMode('ok');
      const backAt = Date.now();
      expect((await probe).status).toBe(200);
      // The hung call would have answered 504 after timeoutMs (10 s).
      expect(Date.now() - backAt).toBeLessThan(3_000);
      expect(mock.calls).toBe(3);
    } finally {
      await mock.close();
    }
  });

  it('never asks a CAS that answers normally twice, however slowly it answers', async () => {
    const handler = handlerFor();
    const answer = handler(tokenRequest('room-1'));
    await until(() => cas.waiting === 1);
    await sleep(4_500);
    expect(cas.calls).toBe(1);
    cas.answer();
    expect((await answer).status).toBe(200);
  });
});
