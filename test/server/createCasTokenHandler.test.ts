// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createCasTokenHandler,
  createMemoryTokenStore,
  isCasTokenError,
  type CasTokenHandlerOptions,
} from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, captureLogger, credentials, payloadOf, startCas, tokenRequest, untilCasCalls } from './casTestKit';

const NOW = Date.UTC(2030, 0, 1);

let cas: MockCas;
let logger: ReturnType<typeof captureLogger>;
beforeEach(async () => {
  cas = await startCas();
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
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function tokenOf(response: Response): Promise<string> {
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

describe('createCasTokenHandler: answers', () => {
  it("answers GET with the room's token, the ms it has left and the ms until it rotates, not to be cached", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const response = await handlerFor()(tokenRequest('movie-night-42'));

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { token: string; expiresIn: number; refreshIn: number };
    expect(Object.keys(body)).toEqual(['token', 'expiresIn', 'refreshIn', 'checkIn', 'seal']);
    expect(payloadOf(body.token)).toMatchObject({ iat: NOW / 1000, exp: NOW / 1000 + 30 });
    // A 30 s token rotates at half its life (refreshLeadMs 300 s is longer than the token).
    expect(body).toMatchObject({ expiresIn: 30_000, refreshIn: 15_000 });
  });

  it('counts expiresIn and refreshIn from the answer, not from the request, however long authorize took', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    let checkMs = 0;
    // An access check that takes its time (a session lookup): the fake clock moves while it runs.
    const handler = handlerFor({
      authorize: () => {
        vi.setSystemTime(Date.now() + checkMs);
        return true;
      },
    });
    const token = await handler(tokenRequest('room-1')).then(tokenOf);

    vi.setSystemTime(NOW + 5_000);
    checkMs = 3_000;
    const body = (await (await handler(tokenRequest('room-1'))).json()) as Record<string, unknown>;

    // The 30 s token, rotating at 15 s, answered at 8 s.
    expect(body).toEqual({ token, expiresIn: 22_000, refreshIn: 7_000, checkIn: 8_000, seal: expect.any(String) });
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 405 and Allow: GET, HEAD, without calling CAS', async (method) => {
    const response = await handlerFor()(tokenRequest('room-1', { method }));
    expect(await read(response)).toEqual({ status: 405, body: { error: 'method-not-allowed', message: 'Ask for a token with GET.' } });
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(cas.calls).toBe(0);
  });

  it('answers HEAD as GET, with the same status and headers and no body', async () => {
    const handler = handlerFor();
    const head = await handler(tokenRequest('room-1', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(head.body).toBeNull();
    expect(await handler(tokenRequest('room-1')).then(tokenOf)).toEqual(expect.any(String));
    expect(cas.calls).toBe(1);

    const bad = await handler(tokenRequest('bad room', { method: 'HEAD' }));
    expect([bad.status, bad.body]).toEqual([400, null]);
  });

  it.each([
    ['no room', undefined],
    ['an empty room', ''],
    ['a room of 129 characters', 'r'.repeat(129)],
    ['a room with a space', 'movie night'],
    ['a room with a slash', '../admin'],
    ['a room with non-ASCII letters', 'café'],
  ])('answers 400 for %s, without calling CAS', async (_case, room) => {
    expect(await read(await handlerFor()(tokenRequest(room)))).toEqual({
      status: 400,
      body: { error: 'invalid-room', message: expect.stringContaining('?room=') },
    });
    expect(cas.calls).toBe(0);
  });

  it('answers 400 when the request names the room twice, whatever authorize would say', async () => {
    const authorize = vi.fn(() => true);
    const handler = handlerFor({ authorize });
    const response = await handler(new Request('http://app.test/api/cas-token?room=vip&room=lobby'));
    expect(await read(response)).toEqual({
      status: 400,
      body: { error: 'invalid-room', message: 'Name the room once: this request names `room` more than once.' },
    });
    expect(authorize).not.toHaveBeenCalled();
    expect(cas.calls).toBe(0);
  });

  it('accepts a room of 128 letters, digits and _ - . : ~', async () => {
    const room = `Az09_-.:~${'x'.repeat(119)}`;
    expect(room).toHaveLength(128);
    expect((await handlerFor()(tokenRequest(room))).status).toBe(200);
  });

  it('lets a custom `room` option pick any room up to 512 characters, and answers 400 when it gives null', async () => {
    const handler = handlerFor({ room: (request) => request.headers.get('x-party') });
    expect((await handler(tokenRequest(undefined, { headers: { 'x-party': 'party of alice@example.com' } }))).status).toBe(200);
    expect((await handler(tokenRequest(undefined, { headers: { 'x-party': 'p'.repeat(512) } }))).status).toBe(200);
    expect(await read(await handler(tokenRequest(undefined, { headers: { 'x-party': 'p'.repeat(513) } })))).toEqual({
      status: 400,
      body: { error: 'invalid-room', message: 'Say which room the token is for.' },
    });
    expect(await read(await handler(tokenRequest('ignored')))).toEqual({
      status: 400,
      body: { error: 'invalid-room', message: 'Say which room the token is for.' },
    });
    expect(cas.calls).toBe(2);
  });

  it('answers 400 when a custom `room` option gives something that is not a string', async () => {
    const handler = handlerFor({ room: (() => 42) as unknown as CasTokenHandlerOptions['room'] });
    expect((await read(await handler(tokenRequest('room-1')))).body.error).toBe('invalid-room');
    expect(cas.calls).toBe(0);
  });
});

describe('createCasTokenHandler: authorize', () => {
  it('answers 401 without calling CAS when authorize says no', async () => {
    const handler = handlerFor({ authorize: async () => false });
    expect(await read(await handler(tokenRequest('room-1')))).toEqual({
      status: 401,
      body: { error: 'unauthorized', message: 'This request may not have a token.' },
    });
    expect(cas.calls).toBe(0);
  });

  it("answers 403 forbidden without calling CAS when authorize says 'forbidden': signed in, but not for this room", async () => {
    const handler = handlerFor({ authorize: () => 'forbidden' });
    expect(await read(await handler(tokenRequest('room-1')))).toEqual({
      status: 403,
      body: { error: 'forbidden', message: 'This user may not have a token for this room.' },
    });
    expect(cas.calls).toBe(0);
  });

  it("tells a request without a session (false: 401) from a user refused one room ('forbidden': 403)", async () => {
    const handler = handlerFor({
      authorize: (request, { room }) => {
        const user = request.headers.get('cookie');
        if (user === null) return false;
        return room === 'staff' && user !== 'staff' ? 'forbidden' : true;
      },
    });
    const signedIn = { headers: { cookie: 'ada' } };
    expect((await read(await handler(tokenRequest('staff')))).body.error).toBe('unauthorized');
    expect((await read(await handler(tokenRequest('staff', signedIn)))).body.error).toBe('forbidden');
    expect((await handler(tokenRequest('lobby', signedIn))).status).toBe(200);
    expect((await handler(tokenRequest('staff', { headers: { cookie: 'staff' } }))).status).toBe(200);
  });

  it('tells authorize the room the handler will serve, so it can check that this user may join it', async () => {
    const authorize = vi.fn((request: Request, { room }: { room: string }) => request.headers.get('cookie') === 'vip=yes' || room !== 'vip');
    const handler = handlerFor({ authorize });
    expect((await handler(tokenRequest('vip'))).status).toBe(401);
    expect((await handler(tokenRequest('lobby'))).status).toBe(200);
    expect((await handler(tokenRequest('vip', { headers: { cookie: 'vip=yes' } }))).status).toBe(200);
    expect(authorize.mock.calls.map(([, context]) => context)).toEqual([{ room: 'vip' }, { room: 'lobby' }, { room: 'vip' }]);
  });

  it('tells authorize the room a custom `room` option settled on', async () => {
    const authorize = vi.fn(() => true);
    await handlerFor({ authorize, room: () => 'from-header' })(tokenRequest('from-query'));
    expect(authorize).toHaveBeenCalledWith(expect.any(Request), { room: 'from-header' });
  });

  it.each([
    ['the string "false"', 'false'],
    ['the string "true"', 'true'],
    ['1', 1],
    ['an object', { allowed: true }],
    ['undefined', undefined],
    ['a promise of "yes"', Promise.resolve('yes')],
    ['the string "Forbidden"', 'Forbidden'],
  ])('grants nothing when authorize answers %s: only true grants, and only exactly "forbidden" is a 403', async (_case, verdict) => {
    const handler = handlerFor({ authorize: (() => verdict) as unknown as CasTokenHandlerOptions['authorize'] });
    expect((await read(await handler(tokenRequest('room-1')))).status).toBe(401);
    expect(cas.calls).toBe(0);
  });

  it("answers authorize's own Response as it is, e.g. a rate limit, kept out of shared caches", async () => {
    const handler = handlerFor({
      authorize: () => Response.json({ error: 'rate-limited', message: 'Slow down.' }, { status: 429, headers: { 'Retry-After': '10' } }),
    });
    const response = await handler(tokenRequest('room-1'));
    expect(await read(response)).toEqual({ status: 429, body: { error: 'rate-limited', message: 'Slow down.' } });
    expect(response.headers.get('retry-after')).toBe('10');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(cas.calls).toBe(0);

    const cached = handlerFor({ authorize: () => new Response('gone', { status: 403, headers: { 'Cache-Control': 'private, max-age=5' } }) });
    expect((await cached(tokenRequest('room-1'))).headers.get('cache-control')).toBe('private, max-age=5');
  });

  it('answers 500 and logs one safe line when authorize throws, without calling CAS', async () => {
    const handler = handlerFor({
      authorize: () => Promise.reject(new Error(`session store down\n[react-cas-token] forged line ${API_SECRET}`)),
    });
    expect(await read(await handler(tokenRequest('room-1')))).toEqual({
      status: 500,
      body: { error: 'internal', message: 'The token proxy failed.' },
    });
    expect(logger.lines).toEqual([
      { level: 'error', message: '[react-cas-token] `authorize` threw: Error: session store down\\n[react-cas-token] forged line [redacted]' },
    ]);
    expect(cas.calls).toBe(0);
  });

  it('cuts a very long error message in the log line', async () => {
    const handler = handlerFor({ authorize: () => Promise.reject(new Error('x'.repeat(10_000))) });
    await handler(tokenRequest('room-1'));
    expect(logger.lines[0]?.message.length).toBeLessThan(400);
  });

  it('answers 503 authorize-timeout with Retry-After once authorize has not settled within authorizeTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const handler = handlerFor({ authorize: () => new Promise<boolean>(() => {}), authorizeTimeoutMs: 2_000 });
    let settled = false;
    const answer = handler(tokenRequest('room-1')).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const response = await answer;
    expect(await read(response)).toEqual({
      status: 503,
      body: { error: 'authorize-timeout', message: 'The access check did not finish in time; try again in a moment.' },
    });
    expect(response.headers.get('retry-after')).toBe('1');
    expect(logger.lines).toEqual([{ level: 'warn', message: expect.stringContaining('`authorize` did not settle within authorizeTimeoutMs (2000 ms)') }]);
    expect(vi.getTimerCount()).toBe(0);
    expect(cas.calls).toBe(0);
  });

  it('counts a slow `room` option against the same authorizeTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const slow = (ms: number) => <T,>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
    const handler = handlerFor({ room: () => slow(1_500)('room-1'), authorize: () => slow(1_000)(true), authorizeTimeoutMs: 2_000 });
    const answer = handler(tokenRequest());
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await read(await answer)).body.error).toBe('authorize-timeout');
    expect(logger.lines[0]?.message).toMatch(/`authorize` did not settle/);
  });

  it('clears its timer as soon as authorize answers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const handler = handlerFor({ authorize: async () => false });
    await handler(tokenRequest('room-1'));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('warns once, when created, that a handler without authorize serves anyone', async () => {
    const handler = createCasTokenHandler({ ...credentials(cas), logger });
    await handler(tokenRequest('room-1'));
    await handler(tokenRequest('room-2'));
    expect(logger.lines).toEqual([
      { level: 'warn', message: expect.stringContaining('anyone who can reach it gets a CAS token for any room') },
    ]);
    handlerFor();
    expect(logger.lines).toHaveLength(1);
  });
});

describe('createCasTokenHandler: errors a framework throws for control flow', () => {
  function nextRedirect() {
    return Object.assign(new Error('NEXT_REDIRECT'), { digest: 'NEXT_REDIRECT;replace;/login;307;' });
  }

  it.each([
    ['a Next.js redirect()', nextRedirect()],
    ['a Next.js notFound()', Object.assign(new Error('NEXT_HTTP_ERROR_FALLBACK;404'), { digest: 'NEXT_HTTP_ERROR_FALLBACK;404' })],
    ['a prerender interruption', Object.assign(new Error('interrupted'), { digest: 'NEXT_PRERENDER_INTERRUPTED' })],
    ['a dynamic-usage error', Object.assign(new Error('Dynamic server usage: cookies'), { digest: 'DYNAMIC_SERVER_USAGE' })],
    ['one wrapped as a cause', new Error('session check failed', { cause: nextRedirect() })],
    ["React's postpone", { $$typeof: Symbol.for('react.postpone'), reason: 'prerender' }],
  ])('rethrows %s from authorize untouched, logging nothing', async (_case, thrown) => {
    const handler = handlerFor({ authorize: () => Promise.reject(thrown) });
    await expect(handler(tokenRequest('room-1'))).rejects.toBe(thrown);
    expect(logger.lines).toEqual([]);
    expect(cas.calls).toBe(0);
  });

  it('rethrows one thrown synchronously by the `room` option', async () => {
    const thrown = nextRedirect();
    const handler = handlerFor({
      room: () => {
        throw thrown;
      },
    });
    await expect(handler(tokenRequest('room-1'))).rejects.toBe(thrown);
    expect(logger.lines).toEqual([]);
  });
});

describe('createCasTokenHandler: one token per room', () => {
  it('makes one CAS call for 300 concurrent requests for a room, and all get the same token', async () => {
    cas.setLatency(100);
    const handler = handlerFor();
    const tokens = await Promise.all(Array.from({ length: 300 }, () => handler(tokenRequest('movie-night')).then(tokenOf)));
    expect(cas.calls).toBe(1);
    expect(new Set(tokens).size).toBe(1);
  });

  it('gives different rooms different tokens, one CAS call each', async () => {
    cas.setLatency(50);
    const handler = handlerFor();
    const rooms = ['room-a', 'room-b', 'room-c'];
    const answers = await Promise.all(
      Array.from({ length: 90 }, (_, index) => {
        const room = rooms[index % 3] as string;
        return handler(tokenRequest(room)).then(async (response) => ({ room, token: await tokenOf(response) }));
      }),
    );
    expect(cas.calls).toBe(3);
    const tokenByRoom = new Map(answers.map(({ room, token }) => [room, token]));
    expect(answers.every(({ room, token }) => tokenByRoom.get(room) === token)).toBe(true);
    expect(new Set(tokenByRoom.values()).size).toBe(3);
  });

  it('reuses a one-hour token until 5 minutes before it expires, then gets a new one', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    cas.setLifetime(3_600_000);
    const handler = handlerFor();
    const first = await handler(tokenRequest('room-1')).then(tokenOf);

    // The store forgets the token one second before its rotation (the grace).
    vi.setSystemTime(NOW + 3_299_000 - 1);
    expect(await (await handler(tokenRequest('room-1'))).json()).toEqual({ token: first, refreshIn: 1_001, expiresIn: 301_001, checkIn: 8_000, seal: expect.any(String) });
    expect(cas.calls).toBe(1);

    vi.setSystemTime(NOW + 3_299_000);
    const renewed = await handler(tokenRequest('room-1')).then(tokenOf);
    expect(renewed).not.toBe(first);
    expect(cas.calls).toBe(2);
  });

  it('reuses a token shorter than twice refreshLeadMs for half its life (computeRefreshAt)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor(); // 30 s tokens, 300 s lead: rotation at 15 s, forgotten at 14 s
    const first = await handler(tokenRequest('room-1')).then(tokenOf);
    vi.setSystemTime(NOW + 13_999);
    expect(await handler(tokenRequest('room-1')).then(tokenOf)).toBe(first);
    vi.setSystemTime(NOW + 14_000);
    expect(await handler(tokenRequest('room-1')).then(tokenOf)).not.toBe(first);
    expect(cas.calls).toBe(2);
  });

  it('with refreshLeadMs 0, reuses a token until a second before it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor({ refreshLeadMs: 0 });
    const first = await handler(tokenRequest('room-1')).then(tokenOf);
    vi.setSystemTime(NOW + 28_999);
    expect(await (await handler(tokenRequest('room-1'))).json()).toEqual({ token: first, refreshIn: 1_001, expiresIn: 1_001, checkIn: 8_000, seal: expect.any(String) });
    expect(cas.calls).toBe(1);
  });

  it('shares one failed CAS call between concurrent requests, and all of them get the error', async () => {
    cas.setMode('error');
    cas.setLatency(50);
    const handler = handlerFor();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => handler(tokenRequest('room-1')).then((r) => r.status)));
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 502));
    expect(cas.calls).toBe(1);
  });

  it('uses a token another handler already stored, without calling CAS', async () => {
    const shared = createMemoryTokenStore();
    const token = await handlerFor({ store: shared })(tokenRequest('room-1')).then(tokenOf);
    expect(await handlerFor({ store: shared })(tokenRequest('room-1')).then(tokenOf)).toBe(token);
    expect(cas.calls).toBe(1);
  });
});

describe('createCasTokenHandler: CAS failures', () => {
  it('answers 502 cas-unauthorized with Retry-After when CAS refuses the key, and logs that the key or secret is wrong', async () => {
    cas.setMode('unauthorized');
    const response = await handlerFor()(tokenRequest('room-1'));
    expect(await read(response)).toEqual({
      status: 502,
      body: { error: 'cas-unauthorized', message: "The token service refused this server's credentials." },
    });
    expect(response.headers.get('retry-after')).toBe('2');
    expect(logger.lines).toEqual([
      { level: 'error', message: expect.stringMatching(/refused the API key and secret \(HTTP 401\): check CAS_API_KEY and CAS_API_SECRET/) },
    ]);
  });

  it.each([
    ['error', 502, 'cas-http', 'warn'],
    ['html', 502, 'cas-invalid-response', 'error'],
    ['no-token', 502, 'cas-invalid-response', 'error'],
  ] as const)('answers CAS mode %s with %i %s, Retry-After and a %s log line', async (mode, status, error, level) => {
    cas.setMode(mode);
    const response = await handlerFor()(tokenRequest('room-1'));
    expect(await read(response)).toEqual({ status, body: { error, message: expect.any(String) } });
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('retry-after')).toBe('2');
    expect(logger.lines).toEqual([{ level, message: expect.stringContaining(cas.url) }]);
  });

  it('answers 502 cas-network when CAS cannot be reached', async () => {
    const handler = handlerFor();
    await cas.close();
    expect(await read(await handler(tokenRequest('room-1')))).toEqual({
      status: 502,
      body: { error: 'cas-network', message: 'The token service could not be reached.' },
    });
    cas = await startCas();
  });

  it('answers 504 cas-timeout when CAS does not answer within timeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    cas.setMode('hang');
    const answer = handlerFor({ timeoutMs: 3_000 })(tokenRequest('room-1'));
    await untilCasCalls(cas, 1);
    await vi.advanceTimersByTimeAsync(3_000);
    const response = await answer;
    expect(await read(response)).toEqual({
      status: 504,
      body: { error: 'cas-timeout', message: 'The token service did not answer in time.' },
    });
    expect(response.headers.get('retry-after')).toBe('2');
  });

  it('answers 502 cas-invalid-response when CAS redirects to another origin', async () => {
    cas.setMode('redirect', { redirectTo: 'https://elsewhere.example/stream/token/v2/' });
    expect((await read(await handlerFor()(tokenRequest('room-1')))).body.error).toBe('cas-invalid-response');
  });

  it('answers 502 cas-invalid-token when CAS gives something that is not a JWT', async () => {
    const fetch = vi.fn(async () => Response.json({ token: 'not-a-jwt' }));
    expect((await read(await handlerFor({ fetch })(tokenRequest('room-1')))).body.error).toBe('cas-invalid-token');
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('never puts the API key or secret in an answer, a header, an error or a log line', async () => {
    const seen: string[] = [];
    const record = async (response: Response) => {
      seen.push(String(response.status), JSON.stringify([...response.headers]), await response.text());
    };
    const wrongSecret = 'secret-wrong-0c1d2e-do-not-leak';
    const handler = handlerFor({ timeoutMs: 50, failureCacheMs: 0 });

    for (const mode of ['ok', 'unauthorized', 'error', 'html', 'no-token', 'redirect', 'hang'] as const) {
      cas.setMode(mode);
      await record(await handler(tokenRequest(`room-${mode}`)));
    }
    cas.setMode('redirect', { redirectTo: 'https://elsewhere.example/' });
    await record(await handler(tokenRequest('room-elsewhere')));
    cas.setMode('ok');
    await record(await handlerFor({ apiSecret: wrongSecret })(tokenRequest('room-wrong-secret')));
    await record(await handler(tokenRequest('bad room')));
    await record(await handler(tokenRequest('room-1', { method: 'POST' })));
    await record(await handlerFor({ authorize: () => false })(tokenRequest('room-1')));
    await record(await handlerFor({ authorize: () => Promise.reject(new Error(`leaked ${API_KEY} ${API_SECRET}`)) })(tokenRequest('room-1')));
    for (const broken of [
      { apiKey: '' },
      { casUrl: `http://cas.example/${API_SECRET}` },
      { casUrl: API_SECRET },
      { casUrl: `${cas.url}/?secret=${API_SECRET}` },
      { apiSecret: `${API_SECRET}\n` },
      { apiKey: `${API_KEY}\r\nX: 1` },
    ]) {
      try {
        handlerFor(broken);
        throw new Error(`accepted ${JSON.stringify(Object.keys(broken))}`);
      } catch (error) {
        if (!isCasTokenError(error)) throw error;
        seen.push(error.message, String(error.cause));
      }
    }
    seen.push(...logger.lines.map((line) => line.message));

    expect(logger.lines.length).toBeGreaterThanOrEqual(7);
    const everything = seen.join('\n');
    for (const secret of [API_KEY, API_SECRET, wrongSecret]) expect(everything).not.toContain(secret);
    expect(cas.requests.some((request) => request.headers['auth-api-secret'] === API_SECRET)).toBe(true);
  });
});

describe('createCasTokenHandler: settings', () => {
  it.each([
    ['casUrl', 'CAS_URL'],
    ['apiKey', 'CAS_API_KEY'],
    ['apiSecret', 'CAS_API_SECRET'],
  ] as const)('throws invalid-config at once when %s is missing, naming it and %s', (setting, env) => {
    const options = { ...credentials(cas), [setting]: undefined } as unknown as CasTokenHandlerOptions;
    expect(() => createCasTokenHandler(options)).toThrow(
      expect.objectContaining({ name: 'CasTokenError', code: 'invalid-config', message: expect.stringContaining(`\`${setting}\` or set ${env}`) }),
    );
  });

  it('throws invalid-config for a CAS URL that is not https and not localhost', () => {
    expect(() => handlerFor({ casUrl: 'http://cas.example.com' })).toThrow(/must use https/);
    expect(() => handlerFor({ casUrl: 'https://cas.example.com' })).not.toThrow();
  });

  it('throws invalid-config for a CAS URL with credentials, a query or a fragment in it', () => {
    expect(() => handlerFor({ casUrl: 'https://user:pass@cas.example.com' })).toThrow(/must not hold credentials/);
    expect(() => handlerFor({ casUrl: 'https://cas.example.com/?x=1' })).toThrow(/must not hold a query/);
    expect(() => handlerFor({ casUrl: 'https://cas.example.com/#x' })).toThrow(/or a fragment/);
  });

  it('throws invalid-config, naming the setting, for a key or secret HTTP cannot carry', () => {
    expect(() => handlerFor({ apiKey: 'key\nmore' })).toThrow(expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining('`apiKey`') }));
    expect(() => handlerFor({ apiSecret: 'secret\u0000' })).toThrow(expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining('`apiSecret`') }));
  });

  it.each([
    ['refreshLeadMs', -1],
    ['refreshLeadMs', Number.NaN],
    ['timeoutMs', 0],
    ['timeoutMs', Number.POSITIVE_INFINITY],
    ['timeoutMs', 2 ** 31],
    ['storeTimeoutMs', 0],
    ['storeTimeoutMs', -5],
    ['authorizeTimeoutMs', 0],
    ['authorizeTimeoutMs', Number.NaN],
    ['failureCacheMs', -1],
    ['maxConcurrentCasCalls', 0],
    ['maxConcurrentCasCalls', 2.5],
  ] as const)('throws invalid-config for %s %d', (name, value) => {
    expect(() => handlerFor({ [name]: value })).toThrow(expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining(name) }));
  });
});
