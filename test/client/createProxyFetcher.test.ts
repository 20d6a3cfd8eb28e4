// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it.each([401, 403])('reads %i as unauthorized', async (status) => {
    const error = await failureOf(fetchFrom(`/s${status}`, json(status, { error: 'no' })));
    expect(error).toMatchObject({ code: 'unauthorized', status });
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

  it('refuses to be made without a URL or with a bad timeout', () => {
    expect(() => createProxyFetcher('')).toThrow(expect.objectContaining({ code: 'invalid-config' }));
    expect(() => createProxyFetcher('/api', { timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });
});
