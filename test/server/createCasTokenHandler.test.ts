// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createCasTokenHandler,
  createMemoryTokenStore,
  isCasTokenError,
  type CasTokenHandlerOptions,
  type TokenStore,
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
  it("answers GET with the room's token and the ms it has left, not to be cached", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const response = await handlerFor()(tokenRequest('movie-night-42'));

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { token: string; expiresIn: number };
    expect(Object.keys(body)).toEqual(['token', 'expiresIn']);
    expect(payloadOf(body.token)).toMatchObject({ iat: NOW / 1000, exp: NOW / 1000 + 30 });
    expect(body.expiresIn).toBe(30_000);
  });

  it.each(['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'])('answers %s with 405 and Allow: GET, without calling CAS', async (method) => {
    const response = await handlerFor()(tokenRequest('room-1', { method }));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(cas.calls).toBe(0);
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

  it('accepts a room of 128 letters, digits and _ - . : ~', async () => {
    const room = `Az09_-.:~${'x'.repeat(119)}`;
    expect(room).toHaveLength(128);
    expect((await handlerFor()(tokenRequest(room))).status).toBe(200);
  });

  it('lets a custom `room` option pick any room, and answers 400 when it gives null', async () => {
    const handler = handlerFor({ room: (request) => request.headers.get('x-party') });
    expect((await handler(tokenRequest(undefined, { headers: { 'x-party': 'party of alice@example.com' } }))).status).toBe(200);
    expect(await read(await handler(tokenRequest('ignored')))).toEqual({
      status: 400,
      body: { error: 'invalid-room', message: 'Say which room the token is for.' },
    });
    expect(cas.calls).toBe(1);
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

  it('runs authorize before the room is checked, with the request as it came', async () => {
    const authorize = vi.fn((request: Request) => request.headers.get('cookie') === 'session=ok');
    const handler = handlerFor({ authorize });
    expect((await handler(tokenRequest('bad room'))).status).toBe(401);
    expect((await handler(tokenRequest('room-1', { headers: { cookie: 'session=ok' } }))).status).toBe(200);
    expect(authorize).toHaveBeenCalledTimes(2);
  });

  it('answers 500 and logs when authorize throws, without calling CAS', async () => {
    const handler = handlerFor({ authorize: () => Promise.reject(new Error('session store down')) });
    expect(await read(await handler(tokenRequest('room-1')))).toEqual({
      status: 500,
      body: { error: 'internal', message: 'The token proxy failed.' },
    });
    expect(logger.lines).toEqual([{ level: 'error', message: expect.stringContaining('session store down') }]);
    expect(cas.calls).toBe(0);
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

    vi.setSystemTime(NOW + 3_300_000 - 1);
    const response = await handler(tokenRequest('room-1'));
    expect(await response.json()).toEqual({ token: first, expiresIn: 300_001 });
    expect(cas.calls).toBe(1);

    vi.setSystemTime(NOW + 3_300_000);
    const renewed = await handler(tokenRequest('room-1')).then(tokenOf);
    expect(renewed).not.toBe(first);
    expect(cas.calls).toBe(2);
  });

  it('reuses a token shorter than twice refreshLeadMs for half its life (computeRefreshAt)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor(); // 30 s tokens, 300 s lead
    const first = await handler(tokenRequest('room-1')).then(tokenOf);
    vi.setSystemTime(NOW + 14_999);
    expect(await handler(tokenRequest('room-1')).then(tokenOf)).toBe(first);
    vi.setSystemTime(NOW + 15_000);
    expect(await handler(tokenRequest('room-1')).then(tokenOf)).not.toBe(first);
    expect(cas.calls).toBe(2);
  });

  it('with refreshLeadMs 0, reuses a token until it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const handler = handlerFor({ refreshLeadMs: 0 });
    const first = await handler(tokenRequest('room-1')).then(tokenOf);
    vi.setSystemTime(NOW + 29_999);
    expect(await (await handler(tokenRequest('room-1'))).json()).toEqual({ token: first, expiresIn: 1 });
    expect(cas.calls).toBe(1);
  });

  it('never caches a failed CAS call: the next request calls CAS again', async () => {
    cas.setMode('error');
    const handler = handlerFor();
    expect((await handler(tokenRequest('room-1'))).status).toBe(502);
    cas.setMode('ok');
    expect((await handler(tokenRequest('room-1'))).status).toBe(200);
    expect(cas.calls).toBe(2);
  });

  it('shares one failed CAS call between concurrent requests, and all of them get the error', async () => {
    cas.setMode('error');
    cas.setLatency(50);
    const handler = handlerFor();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => handler(tokenRequest('room-1')).then((r) => r.status)));
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 502));
    expect(cas.calls).toBe(1);
  });

  it('bounds the rooms it remembers: past the cap the oldest room is forgotten', async () => {
    const handler = handlerFor({ store: createMemoryTokenStore({ maxEntries: 2 }) });
    const a = await handler(tokenRequest('room-a')).then(tokenOf);
    await handler(tokenRequest('room-b'));
    await handler(tokenRequest('room-c'));
    expect(cas.calls).toBe(3);
    expect(await handler(tokenRequest('room-a')).then(tokenOf)).not.toBe(a);
    expect(cas.calls).toBe(4);
  });
});

describe('createCasTokenHandler: a store shared between processes', () => {
  it('makes two server processes that race for a room hand out the same token', async () => {
    cas.setLatency(50);
    const shared = createMemoryTokenStore();
    const processA = handlerFor({ store: shared });
    const processB = handlerFor({ store: shared });

    const [fromA, fromB] = await Promise.all([
      processA(tokenRequest('room-1')).then(tokenOf),
      processB(tokenRequest('room-1')).then(tokenOf),
    ]);
    // Each process missed the store and called CAS; the second to store adopted the first's token.
    expect(cas.calls).toBe(2);
    expect(fromB).toBe(fromA);
    expect(await processB(tokenRequest('room-1')).then(tokenOf)).toBe(fromA);
    expect(cas.calls).toBe(2);
  });

  it('uses a token another process already stored, without calling CAS', async () => {
    const shared = createMemoryTokenStore();
    const token = await handlerFor({ store: shared })(tokenRequest('room-1')).then(tokenOf);
    expect(await handlerFor({ store: shared })(tokenRequest('room-1')).then(tokenOf)).toBe(token);
    expect(cas.calls).toBe(1);
  });

  it('stores each token for the time it may be handed out, under the room name', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const store = createMemoryTokenStore();
    const setIfAbsent = vi.spyOn(store, 'setIfAbsent');
    await handlerFor({ store })(tokenRequest('room-1'));
    expect(setIfAbsent).toHaveBeenCalledWith('room-1', expect.any(String), 15_000);
  });

  it('treats a stored value it cannot read as no token', async () => {
    const store: TokenStore = { get: () => 'not json', setIfAbsent: () => true, deleteIfEqual: () => false };
    expect((await handlerFor({ store })(tokenRequest('room-1'))).status).toBe(200);
    expect(cas.calls).toBe(1);
  });

  it('answers 500 and logs when the store fails', async () => {
    const store: TokenStore = {
      get: () => Promise.reject(new Error('redis: connection lost')),
      setIfAbsent: () => true,
      deleteIfEqual: () => false,
    };
    expect(await read(await handlerFor({ store })(tokenRequest('room-1')))).toEqual({
      status: 500,
      body: { error: 'internal', message: 'The token proxy failed.' },
    });
    expect(logger.lines).toEqual([{ level: 'error', message: expect.stringContaining('redis: connection lost') }]);
  });
});

describe('createCasTokenHandler: CAS failures', () => {
  it('answers 502 cas-unauthorized when CAS refuses the key, and logs that the key or secret is wrong', async () => {
    cas.setMode('unauthorized');
    expect(await read(await handlerFor()(tokenRequest('room-1')))).toEqual({
      status: 502,
      body: { error: 'cas-unauthorized', message: "The token service refused this server's credentials." },
    });
    expect(logger.lines).toEqual([
      { level: 'error', message: expect.stringMatching(/refused the API key and secret \(HTTP 401\): check CAS_API_KEY and CAS_API_SECRET/) },
    ]);
  });

  it.each([
    ['error', 502, 'cas-http', 'warn'],
    ['html', 502, 'cas-invalid-response', 'error'],
    ['no-token', 502, 'cas-invalid-response', 'error'],
  ] as const)('answers CAS mode %s with %i %s and a %s log line', async (mode, status, error, level) => {
    cas.setMode(mode);
    const response = await handlerFor()(tokenRequest('room-1'));
    expect(await read(response)).toEqual({ status, body: { error, message: expect.any(String) } });
    expect(response.headers.get('cache-control')).toBe('no-store');
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
    expect(await read(await answer)).toEqual({
      status: 504,
      body: { error: 'cas-timeout', message: 'The token service did not answer in time.' },
    });
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
    const handler = handlerFor({ timeoutMs: 50 });

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
    for (const broken of [{ apiKey: '' }, { casUrl: `http://cas.example/${API_SECRET}` }, { casUrl: API_SECRET }]) {
      try {
        handlerFor(broken);
      } catch (error) {
        if (!isCasTokenError(error)) throw error;
        seen.push(error.message);
      }
    }
    seen.push(...logger.lines.map((line) => line.message));

    expect(logger.lines.length).toBeGreaterThanOrEqual(6);
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

  it('throws invalid-config for a CAS URL with credentials in it', () => {
    expect(() => handlerFor({ casUrl: 'https://user:pass@cas.example.com' })).toThrow(/must not hold credentials/);
  });

  it.each([
    ['refreshLeadMs', -1],
    ['refreshLeadMs', Number.NaN],
    ['timeoutMs', 0],
    ['timeoutMs', Number.POSITIVE_INFINITY],
  ] as const)('throws invalid-config for %s %d', (name, value) => {
    expect(() => handlerFor({ [name]: value })).toThrow(expect.objectContaining({ code: 'invalid-config', message: expect.stringContaining(name) }));
  });
});
