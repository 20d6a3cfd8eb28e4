import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProxyFetcher, decodeStreamToken, type CasTokenError } from 'react-cas-token';
import { createCasTokenHandler, toNodeHandler } from 'react-cas-token/server';
import { createMockTokenProxy, type MockProxyFailure } from 'react-cas-token/testing';
import { captureLogger, credentials, startCas } from '../server/casTestKit';
import { processWarningsDuring } from './support';
import { setTimeout as realDelay } from 'node:timers/promises';

const START = Date.UTC(2030, 0, 1);
const URL_OF = (room?: string) => `http://app.test/api/cas-token${room === undefined ? '' : `?room=${room}`}`;

function ask(proxy: ReturnType<typeof createMockTokenProxy>, room?: string, init?: RequestInit) {
  return proxy(new Request(URL_OF(room), init));
}

/** What the real createProxyFetcher makes of the proxy's answer, decoded as the provider does. */
async function clientSees(proxy: ReturnType<typeof createMockTokenProxy>, room = 'r', timeoutMs = 10_000) {
  const fetcher = createProxyFetcher('/api/cas-token', { fetch: proxy.fetch, timeoutMs });
  try {
    const answer = (await fetcher({ signal: new AbortController().signal, room })) as { token: string };
    decodeStreamToken(answer.token);
    return answer;
  } catch (error) {
    return error as CasTokenError;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createMockTokenProxy', () => {
  it('answers 200 { token, expiresIn, refreshIn } as JSON with Cache-Control: no-store', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ lifetimeMs: 10_000 });

    const response = await ask(proxy, 'movie-night-42');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { token: string };
    expect(body).toEqual({ token: expect.any(String), expiresIn: 10_000, refreshIn: 5_000 });
    expect(decodeStreamToken(body.token).claims).toMatchObject({ rid: 'movie-night-42', iat: START / 1000, exp: START / 1000 + 10 });
  });

  it('hands everyone asking for a room the same token until it rotates, as the real proxy does', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ lifetimeMs: 10_000 });

    const first = await (await ask(proxy, 'a')).json();
    const other = await (await ask(proxy, 'b')).json();
    await vi.advanceTimersByTimeAsync(4_000);
    const again = await (await ask(proxy, 'a')).json();
    await vi.advanceTimersByTimeAsync(1_000);
    const rotated = await (await ask(proxy, 'a')).json();

    expect(other.token).not.toBe(first.token);
    expect(again).toEqual({ token: first.token, expiresIn: 6_000, refreshIn: 1_000 });
    expect(rotated.token).not.toBe(first.token);
  });

  it('mints a token per request with sameTokenPerRoom: false, without refreshIn', async () => {
    const proxy = createMockTokenProxy({ sameTokenPerRoom: false });

    const first = await (await ask(proxy, 'a')).json();
    const second = await (await ask(proxy, 'a')).json();

    expect(second.token).not.toBe(first.token);
    expect(Object.keys(second).sort()).toEqual(['expiresIn', 'token']);
  });

  it('answers no expiresIn or refreshIn for tokens without exp', async () => {
    const proxy = createMockTokenProxy({ lifetimeMs: Number.POSITIVE_INFINITY });

    expect(Object.keys(await (await ask(proxy, 'a')).json())).toEqual(['token']);
  });

  it('records each request with its room, times, outcome and HTTP status', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ latencyMs: 200, failures: { 2: 'unauthorized' } });

    const first = ask(proxy, 'a', { headers: { authorization: 'Bearer abc' } });
    expect(proxy.calls).toEqual([expect.objectContaining({ number: 1, room: 'a', startedAt: START, status: 'pending', httpStatus: undefined })]);
    await vi.advanceTimersByTimeAsync(200);
    const { token } = await (await first).json();
    const second = ask(proxy, 'a');
    await vi.advanceTimersByTimeAsync(200);
    await second;

    expect(proxy.calls).toEqual([
      expect.objectContaining({ number: 1, settledAt: START + 200, status: 'success', token, httpStatus: 200, failure: undefined }),
      expect.objectContaining({ number: 2, startedAt: START + 200, status: 'error', httpStatus: 401, failure: 'unauthorized' }),
    ]);
    expect(proxy.calls[0]!.request.headers.get('authorization')).toBe('Bearer abc');
  });

  it('fails the requests a failures function picks, from what it sees of the request', async () => {
    const proxy = createMockTokenProxy({
      failures: (call) => (call.request.headers.has('authorization') ? undefined : 'unauthorized'),
    });

    expect((await ask(proxy, 'a')).status).toBe(401);
    expect((await ask(proxy, 'a', { headers: { authorization: 'Bearer abc' } })).status).toBe(200);
  });

  it.each<[MockProxyFailure, number, Record<string, unknown>, Record<string, string>]>([
    ['unauthorized', 401, { error: 'unauthorized' }, {}],
    ['forbidden', 403, { error: 'forbidden' }, {}],
    ['http', 502, { error: 'cas-http' }, {}],
    ['invalid-room', 400, { error: 'invalid-room' }, {}],
    ['cas-unauthorized', 502, { error: 'cas-unauthorized' }, {}],
    ['cas-timeout', 504, { error: 'cas-timeout' }, {}],
    ['store-unavailable', 503, { error: 'store-unavailable' }, { 'retry-after': '1' }],
  ])("answers '%s' as the real proxy's %i { error, message } JSON", async (failure, status, body, headers) => {
    const proxy = createMockTokenProxy({ failures: () => failure });

    const response = await ask(proxy, 'a');

    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    for (const [name, value] of Object.entries(headers)) expect(response.headers.get(name)).toBe(value);
    expect(await response.json()).toEqual({ ...body, message: expect.any(String) });
  });

  it("answers 'network' with a network error, as MSW expects", async () => {
    const proxy = createMockTokenProxy({ failures: () => 'network' });

    const response = await ask(proxy, 'a');

    expect(response.type).toBe('error');
    expect(proxy.calls[0]).toMatchObject({ status: 'error', httpStatus: 0, failure: 'network' });
  });

  it("answers 'invalid-response' with an HTML page, as a missing route does", async () => {
    const proxy = createMockTokenProxy({ failures: { 1: 'invalid-response' } });

    const response = await ask(proxy, 'a');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/^<!doctype html>/);
  });

  it('answers a Response failure with a fresh copy each time', async () => {
    const teapot = new Response('short and stout', { status: 418 });
    const proxy = createMockTokenProxy({ failures: () => teapot });

    const first = await ask(proxy, 'a');
    const second = await ask(proxy, 'a');

    expect([first.status, second.status]).toEqual([418, 418]);
    expect([await first.text(), await second.text()]).toEqual(['short and stout', 'short and stout']);
  });

  it.each<[MockProxyFailure, Partial<CasTokenError>]>([
    ['network', { code: 'network' }],
    ['unauthorized', { code: 'unauthorized', status: 401 }],
    ['forbidden', { code: 'forbidden', status: 403 }],
    ['http', { code: 'http', status: 502 }],
    ['invalid-response', { code: 'invalid-response' }],
    ['invalid-token', { code: 'invalid-token' }],
    ['invalid-room', { code: 'http', status: 400 }],
    ['cas-timeout', { code: 'http', status: 504 }],
    ['store-unavailable', { code: 'http', status: 503, retryAfterMs: 1_000 }],
  ])("makes the real createProxyFetcher fail '%s' with %o", async (failure, expected) => {
    const proxy = createMockTokenProxy({ failures: () => failure });

    expect(await clientSees(proxy)).toMatchObject({ name: 'CasTokenError', ...expected });
  });

  it("never answers a 'timeout' failure, so the client's own timeout fires", async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ failures: { 1: 'timeout' } });

    const seen = clientSees(proxy, 'r', 3_000);
    await vi.advanceTimersByTimeAsync(3_000);

    expect(await seen).toMatchObject({ code: 'timeout' });
    expect(proxy.calls[0]).toMatchObject({ status: 'aborted', aborted: true, failure: 'timeout', settledAt: START + 3_000 });
  });

  it('gives the real createProxyFetcher a token it reads like the real proxy answer', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ lifetimeMs: 60_000 });

    expect(await clientSees(proxy, 'movie-night-42')).toEqual({ token: expect.any(String), expiresIn: 60_000, refreshIn: 30_000 });
  });

  it("refuses to be made where there is no Fetch API (Jest's stock jsdom), naming what works there", () => {
    vi.stubGlobal('Response', undefined);
    try {
      expect(() => createMockTokenProxy()).toThrow(
        expect.objectContaining({ code: 'invalid-config', message: expect.stringMatching(/Response.*createMockFetcher.*jest-fixed-jsdom/) }),
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('answers 400 invalid-room without ?room=, unless told the proxy picks rooms itself', async () => {
    const strict = createMockTokenProxy();
    const lenient = createMockTokenProxy({ requireRoom: false });

    expect((await ask(strict)).status).toBe(400);
    expect((await ask(strict, 'bad%20room')).status).toBe(400);
    expect((await ask(lenient)).status).toBe(200);
    expect((await ask(lenient, 'bad%20room')).status).toBe(400);
    expect(lenient.calls[0]).toMatchObject({ room: undefined, status: 'success' });
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const proxy = createMockTokenProxy();

    const response = await ask(proxy, 'a', { method: 'POST' });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD like GET, without a body', async () => {
    const proxy = createMockTokenProxy();

    const response = await ask(proxy, 'a', { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('');
  });

  it('takes latencyMs on the timer clock, failures included', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ latencyMs: 1_000, failures: { 1: 'unauthorized' } });
    const settled = vi.fn();

    void ask(proxy, 'a').then(settled);
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);

    expect(settled).toHaveBeenCalledWith(expect.objectContaining({ status: 401 }));
  });

  it('with latencyMs: Infinity never answers and sets no timer, until aborted', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ latencyMs: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    const settled = vi.fn();

    void ask(proxy, 'a', { signal: controller.signal }).then(settled);
    await vi.advanceTimersByTimeAsync(365 * 24 * 3_600_000);
    expect(settled).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);

    expect(proxy.calls[0]).toMatchObject({ status: 'aborted', aborted: true });
    expect(settled).toHaveBeenCalledWith(expect.objectContaining({ type: 'error' }));
  });

  it('with latencyMs: Infinity on real timers, neither answers at once nor warns TimeoutOverflowWarning', async () => {
    const settled = vi.fn();
    const controller = new AbortController();

    const warnings = await processWarningsDuring(async () => {
      void ask(createMockTokenProxy({ latencyMs: Number.POSITIVE_INFINITY }), 'a', { signal: controller.signal }).then(settled);
      await realDelay(30);
    });
    controller.abort();

    expect(settled).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);
  });

  it('failNext fails the next requests ahead of the failures option, and reset forgets everything', async () => {
    const proxy = createMockTokenProxy();

    proxy.failNext('store-unavailable', 2);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await ask(proxy, 'a')).status);
    proxy.failNext('network');
    proxy.reset();

    expect(statuses).toEqual([503, 503, 200]);
    expect(proxy.calls).toEqual([]);
    expect((await ask(proxy, 'a')).status).toBe(200);
  });

  it('gives the first token of a room only firstTokenExpiresInMs left, then full-lived ones', async () => {
    vi.useFakeTimers({ now: START });
    const proxy = createMockTokenProxy({ lifetimeMs: 60_000, firstTokenExpiresInMs: 4_000, sameTokenPerRoom: false });

    const first = await (await ask(proxy, 'a')).json();
    const second = await (await ask(proxy, 'a')).json();
    const otherRoom = await (await ask(proxy, 'b')).json();

    expect(first.expiresIn).toBe(4_000);
    expect(decodeStreamToken(first.token).expiresAt).toBe(START + 4_000);
    expect(second.expiresIn).toBe(60_000);
    expect(otherRoom.expiresIn).toBe(4_000);
  });

  it('refuses options a test could not mean, with a RangeError naming them', () => {
    expect(() => createMockTokenProxy({ latencyMs: -1 })).toThrow(/latencyMs must be a number of ms >= 0/);
    expect(() => createMockTokenProxy({ lifetimeMs: 0 })).toThrow(RangeError);
    expect(() => createMockTokenProxy({ lifetimeMs: 10_000, firstTokenExpiresInMs: 20_000 })).toThrow(/firstTokenExpiresInMs/);
    expect(() => createMockTokenProxy().failNext('network', -1)).toThrow(RangeError);
  });
});

describe('createMockTokenProxy behind MSW', () => {
  const proxy = createMockTokenProxy({ failures: (call) => (call.number === 1 ? 'network' : undefined) });
  const server = setupServer(http.get('/api/cas-token', ({ request }) => proxy(request)));
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());

  it('serves the real createProxyFetcher on the relative URL, network errors included', async () => {
    const fetcher = createProxyFetcher('/api/cas-token');
    const signal = new AbortController().signal;

    const failed = await fetcher({ signal, room: 'movie-night-42' }).catch((error: CasTokenError) => error);
    const answered = await fetcher({ signal, room: 'movie-night-42' });

    expect(failed).toMatchObject({ name: 'CasTokenError', code: 'network' });
    expect(answered).toEqual({ token: expect.any(String), expiresIn: expect.any(Number), refreshIn: expect.any(Number) });
    expect(proxy.calls.map((call) => [call.room, call.httpStatus])).toEqual([
      ['movie-night-42', 0],
      ['movie-night-42', 200],
    ]);
  });
});

describe('createMockTokenProxy behind toNodeHandler, on 127.0.0.1', () => {
  let server: Server;
  let base: string;
  const proxy = createMockTokenProxy();
  beforeAll(async () => {
    server = createServer(toNodeHandler(proxy));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers tokens, 401 and 503 with Retry-After over real HTTP', async () => {
    proxy.failNext('unauthorized');
    proxy.failNext('store-unavailable');

    const refused = await fetch(`${base}/api/cas-token?room=r`);
    const busy = await fetch(`${base}/api/cas-token?room=r`);
    const fine = await fetch(`${base}/api/cas-token?room=r`);

    expect([refused.status, busy.status, fine.status]).toEqual([401, 503, 200]);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await fine.json()).toEqual({ token: expect.any(String), expiresIn: expect.any(Number), refreshIn: expect.any(Number) });
  });
});

describe('createMockTokenProxy against the real createCasTokenHandler', () => {
  const mock = createMockTokenProxy();

  async function both(request: () => Request, options: { authorize?: () => boolean } = {}) {
    const cas = await startCas();
    try {
      const real = createCasTokenHandler({ ...credentials(cas), authorize: () => true, logger: captureLogger(), ...options });
      return [await real(request()), await mock(request())] as const;
    } finally {
      await cas.close();
    }
  }

  function shape(response: Response) {
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      cacheControl: response.headers.get('cache-control'),
      allow: response.headers.get('allow'),
    };
  }

  it('answers a token request with the same status, headers and body fields', async () => {
    const [real, fake] = await both(() => new Request(URL_OF('movie-night-42')));

    expect(shape(fake)).toEqual(shape(real));
    const realKeys = Object.keys(await real.json());
    // checkIn and seal only when the mock is asked for checks (`checkInMs`): a test's fake hour
    // would otherwise hold hundreds of check requests.
    expect(new Set(Object.keys(await fake.json()))).toEqual(new Set(realKeys.filter((key) => key !== 'checkIn' && key !== 'seal')));
  });

  it.each([
    ['a request without a room', () => new Request(URL_OF()), {}, 'invalid-room'],
    ['a POST', () => new Request(URL_OF('r'), { method: 'POST' }), {}, undefined],
  ] as const)('answers %s with the same status, headers and error code', async (_name, request, options, failure) => {
    const [real, fake] = await both(request, options);

    expect(shape(fake)).toEqual(shape(real));
    const [realBody, fakeBody] = [await real.json(), await fake.json()];
    expect(fakeBody).toEqual({ error: realBody.error, message: realBody.message });
    if (failure) expect(fakeBody.error).toBe(failure);
  });

  it.each([
    ['unauthorized', false],
    ['forbidden', 'forbidden'],
  ] as const)("answers '%s' as the real handler does when authorize answers %s", async (failure, verdict) => {
    const cas = await startCas();
    try {
      const real = createCasTokenHandler({ ...credentials(cas), authorize: () => verdict, logger: captureLogger() });
      const fake = createMockTokenProxy({ failures: () => failure });
      const [realAnswer, fakeAnswer] = [await real(new Request(URL_OF('r'))), await fake(new Request(URL_OF('r')))];

      expect(shape(fakeAnswer)).toEqual(shape(realAnswer));
      expect(await fakeAnswer.json()).toEqual(await realAnswer.json());
    } finally {
      await cas.close();
    }
  });
});
