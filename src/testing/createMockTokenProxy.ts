import { HELD_TOKEN_HEADER } from '../core/heldToken.js';
import { CasTokenError, type CasTokenErrorCode } from '../core/CasTokenError.js';
import { checkMockTokenOptions, createMockTokenSource, type MockCall, type MockFailures, type MockTokenOptions } from './mockTokenSource.js';

/**
 * How a mock proxy request fails. Each name answers what the real proxy (or what stands in front
 * of it) would, so `createProxyFetcher` turns it into the `CasTokenError` of the same code:
 *
 * | failure | answer | the client's `error` |
 * |---|---|---|
 * | `'network'` | `Response.error()` (a network error; MSW rejects the `fetch`) | `network` |
 * | `'timeout'` | none, until the request is aborted | `timeout`, after the fetcher's `timeoutMs` |
 * | `'unauthorized'` | 401 `{ error: 'unauthorized' }`: `authorize` answered false | `unauthorized` |
 * | `'forbidden'` | 403 `{ error: 'forbidden' }`: `authorize` answered `'forbidden'` | `forbidden` |
 * | `'http'` | 502 `{ error: 'cas-http' }`: CAS failed behind the proxy | `http`, `status` 502 |
 * | `'invalid-response'` | 200 with an HTML page (the app's index.html, where the route is missing) | `invalid-response` |
 * | `'invalid-token'` | 200 `{ token: 'not-a-jwt' }` | `invalid-token` |
 * | `'invalid-room'` | 400 `{ error: 'invalid-room' }` | `http`, `status` 400, not retried |
 * | `'cas-unauthorized'` | 502 `{ error: 'cas-unauthorized' }`: CAS refused the server's key | `http`, `proxyCode` `cas-unauthorized` (slow retries) |
 * | `'cas-timeout'` | 504 `{ error: 'cas-timeout' }` | `http`, `status` 504 |
 * | `'store-unavailable'` | 503 `{ error: 'store-unavailable' }`, `Retry-After: 1` | `http`, `status` 503, `retryAfterMs` 1000 |
 * | a `Response` | a copy of it, for anything else | whatever it says |
 *
 * `Response.error()` is how MSW, a service worker and `proxy.fetch` send a network error; behind
 * `toNodeHandler` (a dev server) it drops the connection.
 */
export type MockProxyFailure =
  | Exclude<CasTokenErrorCode, 'invalid-config'>
  | 'invalid-room'
  | 'cas-unauthorized'
  | 'cas-timeout'
  | 'store-unavailable'
  | Response;

/** One request to a mock proxy, as recorded in `proxy.calls`. */
export interface MockProxyCall extends MockCall {
  /** The request, to check its headers (`call.request.headers.get('authorization')`). */
  request: Request;
  /** The failure answered, for `error`. */
  failure: MockProxyFailure | undefined;
  /** The HTTP status answered: 0 for a network error; undefined while pending, or once aborted. */
  httpStatus: number | undefined;
}

export interface MockTokenProxyOptions extends MockTokenOptions {
  /**
   * Which requests fail: by number (`{ 1: 'network', 2: 'store-unavailable' }`), or a function
   * of the call that returns a failure or undefined (`(call) => call.request.headers.has('authorization') ? undefined : 'unauthorized'`).
   */
  failures?: MockFailures<MockProxyFailure, MockProxyCall>;
  /** @defaultValue true, as the server proxy hands out one token per room */
  sameTokenPerRoom?: boolean;
  /**
   * Answer 400 `invalid-room` to a request without `?room=`, as the server proxy's default does.
   * Set false when your proxy picks the room itself (from the session, say).
   * A `room` that is not 1-128 of `A-Z a-z 0-9 _ - . : ~` is refused either way.
   * @defaultValue true
   */
  requireRoom?: boolean;
}

/**
 * A Fetch-API handler that answers as the token proxy of `react-cas-token/server` does, from test
 * tokens, and records each request.
 */
export interface MockTokenProxy {
  (request: Request): Promise<Response>;
  /** Every request so far, oldest first. Entries update in place as requests settle. */
  readonly calls: readonly MockProxyCall[];
  /** Makes the next `count` requests fail, ahead of the `failures` option. */
  failNext(failure: MockProxyFailure, count?: number): void;
  /** Forgets the recorded calls, queued failures and per-room tokens. */
  reset(): void;
  /**
   * A `fetch` that sends every request to this proxy, whatever its URL, for
   * `createProxyFetcher(url, { fetch: proxy.fetch })` in a test without MSW. A network error
   * rejects with a `TypeError`, as `fetch` does.
   */
  readonly fetch: typeof fetch;
}

const ROOM_PATTERN = /^[A-Za-z0-9_.:~-]{1,128}$/;

const HTML_PAGE = '<!doctype html>\n<html><head><title>Watch party</title></head><body><div id="root"></div></body></html>\n';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  });
}

const ANSWERS: Record<Exclude<MockProxyFailure, Response | 'network' | 'timeout'>, () => Response> = {
  unauthorized: () => json(401, { error: 'unauthorized', message: 'This request may not have a token.' }),
  forbidden: () => json(403, { error: 'forbidden', message: 'This user may not have a token for this room.' }),
  http: () => json(502, { error: 'cas-http', message: 'The token service answered with an error.' }),
  'invalid-response': () => new Response(HTML_PAGE, { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } }),
  'invalid-token': () => json(200, { token: 'not-a-jwt', expiresIn: 60_000 }),
  'invalid-room': () =>
    json(400, { error: 'invalid-room', message: 'Say which room the token is for: ?room= with 1-128 letters, digits, _ - . : ~' }),
  'cas-unauthorized': () => json(502, { error: 'cas-unauthorized', message: "The token service refused this server's credentials." }),
  'cas-timeout': () => json(504, { error: 'cas-timeout', message: 'The token service did not answer in time.' }),
  'store-unavailable': () =>
    json(503, { error: 'store-unavailable', message: 'The token store is unavailable.' }, { 'Retry-After': '1' }),
};

function answerFor(failure: Exclude<MockProxyFailure, 'timeout'>): Response {
  if (failure instanceof Response) return failure.clone();
  if (failure === 'network') return Response.error();
  const answer = ANSWERS[failure];
  if (answer === undefined) throw new RangeError(`createMockTokenProxy: unknown failure ${JSON.stringify(failure)}.`);
  return answer();
}

/** The URL a `fetch` input names, resolved against the page (jsdom, a browser) when relative. */
function requestOf(input: RequestInfo | URL, init: RequestInit | undefined): Request {
  if (input instanceof Request) return new Request(input, init);
  const base = (globalThis as { location?: { href?: string } }).location?.href ?? 'http://localhost/';
  return new Request(new URL(String(input), base), init);
}

/**
 * Makes a mock of the token proxy at the network level: a Fetch-API handler,
 * `(request: Request) => Promise<Response>`, that answers `GET ?room=<room>` as
 * `react-cas-token/server` does: `200 { token, expiresIn, refreshIn }` with
 * `Cache-Control: no-store`, errors as `{ error, message }` JSON. So the app's real
 * `createProxyFetcher` runs in tests and stories. Same knobs as `createMockFetcher`: lifetime,
 * latency (`Infinity` never answers), failures by number or function, recorded calls.
 *
 * Plug it into MSW (`http.get('/api/cas-token', ({ request }) => proxy(request))`), into
 * msw-storybook-addon the same way, into a dev server with `toNodeHandler` from
 * `react-cas-token/server`, or straight into `createProxyFetcher` with `proxy.fetch`. It needs the
 * Fetch API (`Request`, `Response`): where there is none (Jest's stock jsdom environment) it throws
 * `invalid-config`; `createMockFetcher` works there.
 *
 * @example
 * ```ts
 * import { http } from 'msw';
 * import { setupServer } from 'msw/node';
 *
 * const proxy = createMockTokenProxy({ lifetimeMs: 10_000, failures: { 1: 'network' } });
 * const server = setupServer(http.get('/api/cas-token', ({ request }) => proxy(request)));
 * server.listen();
 * // render <CasTokenProvider fetcher={createProxyFetcher('/api/cas-token')} room="r">...
 * expect(proxy.calls.map((call) => call.httpStatus)).toEqual([0, 200]);
 * ```
 */
export function createMockTokenProxy(options: MockTokenProxyOptions = {}): MockTokenProxy {
  checkMockTokenOptions('createMockTokenProxy', options);
  if (typeof Request !== 'function' || typeof Response !== 'function') {
    throw new CasTokenError(
      'invalid-config',
      'createMockTokenProxy needs Request and Response, which jest-environment-jsdom lacks: use createMockFetcher there, or jest-fixed-jsdom.',
    );
  }
  const source = createMockTokenSource<MockProxyFailure, MockProxyCall>(() => ({ sameTokenPerRoom: true, ...options }));

  async function proxy(request: Request): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return json(405, { error: 'method-not-allowed', message: 'Ask for a token with GET.' }, { Allow: 'GET, HEAD' });
    }
    const asked = new URL(request.url).searchParams.get('room');
    const badRoom = asked === null ? options.requireRoom !== false : !ROOM_PATTERN.test(asked);
    const held = request.headers.get(HELD_TOKEN_HEADER)?.split(' ')[1];
    const call = source.open({ room: asked ?? undefined, request, failure: undefined, httpStatus: undefined, held });
    let outcome;
    try {
      outcome = await source.serve(call, request.signal, () => (badRoom ? 'invalid-room' : undefined));
    } catch {
      // The client went away: nobody reads this answer.
      return Response.error();
    }
    if (outcome.failure === 'timeout') {
      call.status = 'pending';
      call.settledAt = undefined;
      return hang(call, request.signal);
    }
    let response: Response;
    if (outcome.failure === undefined) {
      const { token, expiresIn, refreshIn, checkIn, seal } = outcome;
      response = json(200, {
        token,
        ...(expiresIn !== undefined && { expiresIn: Math.max(0, Math.floor(expiresIn)) }),
        ...(refreshIn !== undefined && { refreshIn: Math.max(0, Math.floor(refreshIn)) }),
        ...(checkIn !== undefined && { checkIn, seal }),
      });
    } else {
      call.failure = outcome.failure;
      response = answerFor(outcome.failure);
    }
    call.httpStatus = response.status;
    // HEAD answers like GET without a body, as the real handler does (uptime probes).
    return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
  }

  /** A `timeout` failure: no answer at all until the request is aborted (the client's own timeout). */
  function hang(call: MockProxyCall, signal: AbortSignal): Promise<Response> {
    call.failure = 'timeout';
    return new Promise((resolve) => {
      const settle = () => {
        call.status = 'aborted';
        call.aborted = true;
        call.settledAt = Date.now();
        resolve(Response.error());
      };
      if (signal.aborted) settle();
      else signal.addEventListener('abort', settle, { once: true });
    });
  }

  async function fetchThroughProxy(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = requestOf(input, init);
    const response = await proxy(request);
    if (request.signal.aborted) throw request.signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
    if (response.type === 'error') throw new TypeError('fetch failed (createMockTokenProxy: simulated network error)');
    return response;
  }

  return Object.assign(proxy, {
    calls: source.calls,
    failNext: source.failNext,
    reset: source.reset,
    fetch: fetchThroughProxy as typeof fetch,
  });
}
