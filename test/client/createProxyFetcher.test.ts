// @vitest-environment node
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CasTokenError, createProxyFetcher, decodeStreamToken } from 'react-cas-token';
import { createTestToken } from 'react-cas-token/testing';

type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Route>();
const seen: { url: string; headers: IncomingMessage['headers'] }[] = [];
let base = '';
const server = createServer((req, res) => {
  seen.push({ url: req.url ?? '', headers: req.headers });
  const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
  if (route) route(req, res);
  else res.writeHead(404).end();
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  vi.useRealTimers();
});

function json(status: number, body: unknown, headers: Record<string, string> = {}): Route {
  return (_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function fetchFrom(path: string, route: Route, room?: string, options = {}) {
  routes.set(path, route);
  const fetcher = createProxyFetcher(`${base}${path}`, options);
  return fetcher({ signal: new AbortController().signal, ...(room !== undefined && { room }) });
}

async function failureOf(promise: Promise<unknown>): Promise<CasTokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CasTokenError);
    return error as CasTokenError;
  }
  throw new Error('expected a failure');
}

describe('createProxyFetcher', () => {
  it('asks for the room and passes on the token and how long it has left', async () => {
    const token = createTestToken();
    const answer = await fetchFrom('/ok', json(200, { token, expiresIn: 1234 }), 'movie night/42');
    expect(answer).toEqual({ token, expiresIn: 1234 });
    const request = seen.at(-1)!;
    expect(request.url).toBe('/ok?room=movie%20night%2F42');
    expect(request.headers.accept).toBe('application/json');
  });

  it('adds the room to a URL that already has a query', async () => {
    routes.set('/q', json(200, { token: createTestToken() }));
    await createProxyFetcher(`${base}/q?v=2`)({ signal: new AbortController().signal, room: 'a' });
    expect(seen.at(-1)!.url).toBe('/q?v=2&room=a');
  });

  it('sets the room on a URL that already names one, instead of sending it twice', async () => {
    routes.set('/q', json(200, { token: createTestToken() }));
    await createProxyFetcher(`${base}/q?room=lobby&v=2&rooms=x`)({ signal: new AbortController().signal, room: 'movie night' });
    expect(seen.at(-1)!.url).toBe('/q?v=2&rooms=x&room=movie%20night');
  });

  it('keeps a room in the URL as it is when the provider has none', async () => {
    routes.set('/q', json(200, { token: createTestToken() }));
    await createProxyFetcher(`${base}/q?room=lobby`)({ signal: new AbortController().signal });
    expect(seen.at(-1)!.url).toBe('/q?room=lobby');
  });

  it('keeps a relative URL relative, for the browser to resolve against the page', async () => {
    const requested: unknown[] = [];
    const fetch = (async (input: unknown) => {
      requested.push(input);
      return new Response(JSON.stringify({ token: createTestToken() }), { headers: { 'content-type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const signal = new AbortController().signal;
    await createProxyFetcher('/api/cas-token', { fetch })({ signal, room: 'movie-night' });
    await createProxyFetcher('api/cas-token?v=2&room=lobby#x', { fetch })({ signal, room: 'movie-night' });
    expect(requested).toEqual(['/api/cas-token?room=movie-night', 'api/cas-token?v=2&room=movie-night#x']);
  });

  it('sends cookies to its own origin only, unless told otherwise with credentials', async () => {
    const sent: RequestInit[] = [];
    const fetch = (async (_input: unknown, init: RequestInit) => {
      sent.push(init);
      return new Response(JSON.stringify({ token: createTestToken() }), { headers: { 'content-type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const signal = new AbortController().signal;
    await createProxyFetcher('https://api.example.com/cas-token', { fetch })({ signal });
    await createProxyFetcher('https://api.example.com/cas-token', { fetch, credentials: 'include' })({ signal });

    expect(sent.map((init) => init.credentials)).toEqual(['same-origin', 'include']);
  });

  it('sends headers from a function called for every request', async () => {
    let n = 0;
    routes.set('/h', json(200, { token: createTestToken() }));
    const fetcher = createProxyFetcher(`${base}/h`, { headers: () => ({ authorization: `Bearer ${++n}` }) });
    await fetcher({ signal: new AbortController().signal });
    await fetcher({ signal: new AbortController().signal });
    expect(seen.slice(-2).map((r) => r.headers.authorization)).toEqual(['Bearer 1', 'Bearer 2']);
  });

  it("works out expiresIn from the answer's Date header when the body has none", async () => {
    const serverNow = Date.UTC(2030, 0, 1);
    const token = createTestToken({ issuedAt: serverNow - 55 * 60_000, lifetimeMs: 3_600_000 });
    const answer = await fetchFrom('/date', json(200, { token }, { date: new Date(serverNow).toUTCString() }));
    expect(answer).toEqual({ token, expiresIn: 5 * 60_000 });
    // The browser's clock is years behind; the token still lives five minutes from arrival.
    const info = decodeStreamToken(token, 1_000, { expiresIn: (answer as { expiresIn: number }).expiresIn });
    expect(info.expiresAt).toBe(1_000 + 5 * 60_000);
  });

  it("believes whichever of expiresIn and the Date header leaves the token less time, from a proxy of another make", async () => {
    const token = createTestToken({ lifetimeMs: 3_600_000 });
    const fiftyMinutesOn = new Date(Date.now() + 50 * 60_000).toUTCString();
    const answer = await fetchFrom('/other-date', json(200, { token, expiresIn: 3_600_000 }, { date: fiftyMinutesOn }));
    // exp minus Date: ten minutes, give or take the second Date is rounded to.
    expect((answer as { expiresIn: number }).expiresIn).toBeGreaterThan(9 * 60_000);
    expect((answer as { expiresIn: number }).expiresIn).toBeLessThanOrEqual(10 * 60_000 + 1_000);
  });

  it("believes react-cas-token/server's expiresIn (its answers carry a seal) over a Date header 5 minutes ahead: that instance's clock is off, its store's is not", async () => {
    const token = createTestToken({ lifetimeMs: 30_000 });
    const fiveMinutesAhead = new Date(Date.now() + 5 * 60_000).toUTCString();
    const answer = await fetchFrom('/sealed-date', json(200, { token, expiresIn: 29_000, refreshIn: 14_000, seal: 'v1.1.2.mac' }, { date: fiveMinutesAhead }));
    expect(answer).toEqual({ token, expiresIn: 29_000, refreshIn: 14_000, seal: 'v1.1.2.mac' });
  });

  it('reads 401 as unauthorized, asking whether the user is signed in', async () => {
    const error = await failureOf(fetchFrom('/s401', json(401, { error: 'unauthorized', message: 'This request may not have a token.' })));
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, proxyCode: 'unauthorized' });
    expect(error.message).toMatch(/HTTP 401 \(unauthorized: This request may not have a token\.\): is the user signed in\?$/);
  });

  it('reads 403 as forbidden: this user may not join the room, which signing in again does not change', async () => {
    const error = await failureOf(
      fetchFrom('/s403', json(403, { error: 'forbidden', message: 'This user may not have a token for this room.' })),
    );
    expect(error).toMatchObject({ code: 'forbidden', status: 403, proxyCode: 'forbidden' });
    expect(error.message).toMatch(/HTTP 403 \(forbidden: This user may not have a token for this room\.\): the user may not join this room\.$/);
    expect(error.message).not.toMatch(/signed in/);
  });

  it('reads any 403 as forbidden, also one without the proxy\'s JSON body', async () => {
    const error = await failureOf(fetchFrom('/plain403', (_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden')));
    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('reads another non-2xx answer as http, with its status and Retry-After', async () => {
    const error = await failureOf(fetchFrom('/busy', json(429, { error: 'slow down' }, { 'retry-after': '30' })));
    expect(error).toMatchObject({ code: 'http', status: 429, retryAfterMs: 30_000 });
  });

  it('says so when a misrouted proxy answers an HTML page', async () => {
    const error = await failureOf(
      fetchFrom('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html></html>')),
    );
    expect(error.code).toBe('invalid-response');
    expect(error.message).toMatch(/answered an HTML page instead of JSON: is .*\/html routed to the token handler\?/);
  });

  it.each([
    ['no token', { jwt: 'x' }],
    ['a token that is not a string', { token: 42 }],
    ['null', null],
  ])('reads JSON with %s as invalid-response', async (_, body) => {
    const error = await failureOf(fetchFrom('/bad', json(200, body)));
    expect(error.code).toBe('invalid-response');
  });

  it('reads a refused connection as network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failureOf(createProxyFetcher(`http://127.0.0.1:${port}/x`)({ signal: new AbortController().signal }));
    expect(error.code).toBe('network');
  });

  it('gives up after timeoutMs with timeout', async () => {
    routes.set('/hang', () => {});
    const error = await failureOf(createProxyFetcher(`${base}/hang`, { timeoutMs: 50 })({ signal: new AbortController().signal }));
    expect(error.code).toBe('timeout');
    expect(error.message).toContain('50 ms');
  });

  it('passes an abort by the caller on as an abort, not a failure', async () => {
    routes.set('/slow', () => {});
    const controller = new AbortController();
    const pending = createProxyFetcher(`${base}/slow`)({ signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it("says there is no fetch, instead of a network error it would retry forever, where the environment has none (Jest's stock jsdom)", async () => {
    vi.stubGlobal('fetch', undefined);
    try {
      const error = await failureOf(createProxyFetcher('/api/cas-token')({ signal: new AbortController().signal, room: 'r' }));

      expect(error.code).toBe('invalid-config');
      expect(error.message).toMatch(/no `fetch`.*\/api\/cas-token.*jest-fixed-jsdom/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('refuses to be made without a URL or with a bad timeout', () => {
    expect(() => createProxyFetcher('')).toThrow(expect.objectContaining({ code: 'invalid-config' }));
    expect(() => createProxyFetcher('/api', { timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });

  it('reads a redirect that ends on an HTML page as unauthorized, naming the path but not the query', async () => {
    routes.set('/expired', (_req, res) => res.writeHead(302, { location: '/sign-in?next=%2Fapi&ticket=s3cr3t' }).end());
    routes.set('/sign-in', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><form>Sign in</form>${' '.repeat(20_000)}`));

    const error = await failureOf(fetchFrom('/expired', routes.get('/expired')!));

    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('redirected');
    expect(error.message).toContain('/sign-in');
    expect(error.message).toMatch(/sign-in page/);
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).not.toContain('?next');
  });

  it('recognises a sign-in page after a redirect by its content when it has no content-type', async () => {
    routes.set('/login', (_req, res) => res.writeHead(200).end('  <html><body>Sign in</body></html>'));
    const error = await failureOf(fetchFrom('/gone', (_req, res) => res.writeHead(307, { location: '/login' }).end()));
    expect(error.code).toBe('unauthorized');
  });

  it('follows a redirect that ends on a token', async () => {
    const token = createTestToken();
    routes.set('/v2/token', json(200, { token, expiresIn: 1000 }));
    const answer = await fetchFrom('/v1/token', (req, res) => res.writeHead(308, { location: `/v2/token?${req.url!.split('?')[1]}` }).end(), 'a');
    expect(answer).toEqual({ token, expiresIn: 1000 });
    expect(seen.at(-1)!.url).toBe('/v2/token?room=a');
  });

  it.each([
    [502, 'cas-http', 'The token service answered with an error.'],
    [504, 'cas-timeout', 'The token service did not answer in time.'],
    [503, 'store-unavailable', 'The token store cannot be reached.'],
  ])("passes on the proxy's error body of an HTTP %i: its code as proxyCode, its message in the error", async (status, code, message) => {
    const error = await failureOf(fetchFrom(`/e${status}`, json(status, { error: code, message })));
    expect(error).toMatchObject({ code: 'http', status, proxyCode: code });
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(code);
    expect(error.message).toContain(message);
  });

  it("names CAS refusing the app's key a server configuration problem, not an outage", async () => {
    const error = await failureOf(
      fetchFrom('/cas401', json(502, { error: 'cas-unauthorized', message: "The token service refused this server's credentials." })),
    );
    expect(error).toMatchObject({ code: 'http', status: 502, proxyCode: 'cas-unauthorized' });
    expect(error.message).toMatch(/configuration problem on the server/);
    expect(error.message).toMatch(/CAS_API_KEY/);
    expect(error.message).toMatch(/not an outage/);
  });

  it("keeps the proxy's reason for a 401", async () => {
    const error = await failureOf(fetchFrom('/signin', json(401, { error: 'unauthorized', message: 'Sign in first.' })));
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, proxyCode: 'unauthorized' });
    expect(error.message).toContain('Sign in first.');
  });

  it('ignores an error body that is not the proxy\'s { error, message }', async () => {
    const html = await failureOf(fetchFrom('/e500', (_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>oops</h1>')));
    const odd = await failureOf(fetchFrom('/e500b', json(500, { error: '<script>alert(1)</script>', message: 42 })));
    for (const error of [html, odd]) {
      expect(error).toMatchObject({ code: 'http', status: 500 });
      expect(error.proxyCode).toBeUndefined();
      expect(error.message).toBe(`The token proxy ${base}${error === html ? '/e500' : '/e500b'} answered HTTP 500.`);
    }
  });

  it("caps the proxy's message it repeats", async () => {
    const error = await failureOf(fetchFrom('/long', json(500, { error: 'internal', message: 'x'.repeat(5_000) })));
    expect(error.proxyCode).toBe('internal');
    expect(error.message.length).toBeLessThan(500);
  });

  it('stops reading an error body after 16 kB, even one that never ends', async () => {
    const error = await failureOf(
      fetchFrom('/flood', (_req, res) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.write(`{"error":"cas-http","message":"${'x'.repeat(20_000)}`); // and never ends
      }),
    );
    expect(error).toMatchObject({ code: 'http', status: 502 });
    expect(error.proxyCode).toBeUndefined();
  });

  it('refuses an answer larger than 16 kB without waiting for its end', async () => {
    const error = await failureOf(
      fetchFrom('/huge', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"token":"${'x'.repeat(20_000)}`); // and never ends
      }),
    );
    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('16384 bytes');
  });

  it('refuses an answer that announces more than 16 kB without reading it', async () => {
    const error = await failureOf(
      fetchFrom('/announced', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1_000_000) });
        res.write('{"token":"');
      }),
    );
    expect(error.code).toBe('invalid-response');
  });

  it("waits 15 s by default: longer than the proxy's 10 s CAS timeout, so its 504 arrives first", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let arrived!: () => void;
    const requested = new Promise<void>((resolve) => (arrived = resolve));
    routes.set('/slow-cas', () => arrived());
    let settled: CasTokenError | undefined;
    const pending = failureOf(createProxyFetcher(`${base}/slow-cas`)({ signal: new AbortController().signal })).then(
      (error) => (settled = error),
    );
    await requested;

    await vi.advanceTimersByTimeAsync(14_999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(settled).toMatchObject({ code: 'timeout', message: expect.stringContaining('15000 ms') });
  });
});
