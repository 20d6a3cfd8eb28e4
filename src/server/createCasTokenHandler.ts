import { bounded } from './bounded.js';
import { checkCasConfig, checkCount, checkDuration, type CasCredentials } from './casConfig.js';
import { createMemoryTokenStore } from './createMemoryTokenStore.js';
import { createRoomTokens, type CasTokenLogger } from './createRoomTokens.js';
import { createStoreSettingsCheck } from './createStoreSettingsCheck.js';
import { DEFAULT_CAS_TIMEOUT_MS, requestCasToken } from './fetchCasToken.js';
import { isControlFlowError } from './isControlFlowError.js';
import { missingSettingHint } from './missingSettingHint.js';
import { ProxyFailure } from './ProxyFailure.js';
import { describeError } from './redact.js';
import type { RoomEntry } from './roomEntry.js';
import { createSealer, HELD_TOKEN_HEADER } from './seal.js';
import { isWellFormed } from '../core/isWellFormed.js';
import type { TokenStore } from './TokenStore.js';

export type { CasTokenLogger } from './createRoomTokens.js';

/** How long before a token's expiry the handler stops handing it out, unless the token is short. */
export const DEFAULT_SERVER_REFRESH_LEAD_MS = 300_000;
/** How long one store call may take before the request answers 503 `store-unavailable`. */
export const DEFAULT_STORE_TIMEOUT_MS = 1_000;
/** How long `room` and `authorize` together may take before the request answers 503. */
export const DEFAULT_AUTHORIZE_TIMEOUT_MS = 5_000;
/** How long a failed CAS call is remembered when CAS gives no `Retry-After`. */
export const DEFAULT_FAILURE_CACHE_MS = 2_000;
/** How many CAS calls one process makes at once. */
export const DEFAULT_MAX_CONCURRENT_CAS_CALLS = 16;
/** How often clients check that the token they hold is still their room's. */
export const DEFAULT_CHECK_INTERVAL_MS = 8_000;
/** The rooms the default `room` option accepts: 1 to 128 letters, digits, `_`, `-`, `.`, `:` or `~`. */
const ROOM_PATTERN = /^[A-Za-z0-9_.:~-]{1,128}$/;
/** The longest room a custom `room` option may give. */
const MAX_ROOM_LENGTH = 512;

/** A standard Fetch-API handler: Next.js route handlers, Hono, Workers, Deno, Bun take it as is. */
export type CasTokenHandler = (request: Request) => Promise<Response>;

/** What `authorize` is told besides the request. */
export interface CasTokenAuthorizeContext {
  /** The room the handler will serve this request, as `room` settled it. */
  room: string;
}

/**
 * What `authorize` answers:
 * - `true`: grant a token for the room;
 * - `false`: not signed in, 401 `unauthorized` (the client asks whether the user is signed in);
 * - `'forbidden'`: signed in, but may not join this room, 403 `forbidden`;
 * - a `Response`: answered as it is (a 429 with `Retry-After`, a redirect).
 *
 * Anything else a JavaScript caller might return counts as `false`.
 */
export type CasTokenAuthorizeResult = boolean | 'forbidden' | Response;

export interface CasTokenHandlerOptions extends CasCredentials {
  /**
   * Decides whether this request may have a token for `room`: check the app's session, whether
   * this user may join this room, and rate limits. Only `true` grants. `false` (not signed in)
   * answers 401 and `'forbidden'` (signed in, but not for this room) 403, without calling CAS.
   * A `Response` (e.g. a 429 with `Retry-After`) is answered as it is. Without it anyone who can
   * reach the endpoint gets a token for any room (the handler warns once when created).
   *
   * @example
   * ```ts
   * authorize: async (request, { room }) => {
   *   const session = await auth();
   *   if (!session) return false; // 401: sign in
   *   return (await mayJoin(session.user, room)) ? true : 'forbidden'; // 403: not this room
   * },
   * ```
   */
  authorize?: (request: Request, context: CasTokenAuthorizeContext) => CasTokenAuthorizeResult | Promise<CasTokenAuthorizeResult>;
  /**
   * The room (CAS session) a request is for; null answers 400. Used as is, up to 512 characters
   * of well-formed Unicode (a lone surrogate answers 400: it has no bytes of its own in a store).
   * @defaultValue the `room` query parameter, named once, 1-128 of `A-Z a-z 0-9 _ - . : ~`
   */
  room?: (request: Request) => string | null | Promise<string | null>;
  /**
   * Where each room's token is kept. Share one (Redis, ...) between processes to hand out one
   * token per room across all of them.
   * @defaultValue createMemoryTokenStore(): in memory, at most 10_000 rooms
   */
  store?: TokenStore;
  /**
   * A room's token is handed out until this long before it expires (its rotation; answers say
   * when, as `refreshIn`); then the next request gets a new one. Never less than half of a
   * token's life, so short tokens are still reused.
   * @defaultValue 300_000
   */
  refreshLeadMs?: number;
  /** How long a CAS call may take before the request answers 504. @defaultValue 10_000 */
  timeoutMs?: number;
  /** How long each store call may take before the request answers 503. @defaultValue 1_000 */
  storeTimeoutMs?: number;
  /** How long `room` and `authorize` together may take before the request answers 503. @defaultValue 5_000 */
  authorizeTimeoutMs?: number;
  /**
   * How long a failed CAS call is remembered (CAS's call names no room, so for every room):
   * requests meanwhile get the same answer and its `Retry-After` without calling CAS; then one
   * request asks CAS again while the others wait a second more. So a failing CAS gets one call
   * per this from each process, and a recovered one serves again within it. CAS's own
   * `Retry-After` wins (up to 10 minutes). 0 remembers only what CAS asks for. @defaultValue 2_000
   */
  failureCacheMs?: number;
  /**
   * The most CAS calls this process makes at once; further rooms wait in line (up to 64 per
   * call) while there is time, else answer 503 `cas-busy`. @defaultValue 16
   */
  maxConcurrentCasCalls?: number;
  /**
   * How often each client checks that the token it holds is still its room's (answers say it as
   * `checkIn`), sending the token back with its seal. A store that lost the room (Redis restarted
   * without persistence, evicted it, failed over) gets that token back from the first check, so
   * a party stays one session; a client holding another token than the room's switches to the
   * room's. Each check is one request to this handler (`authorize` and a store read), never a CAS
   * call. 0 turns checks off: then a store that loses a room splits it until the next rotation.
   * @defaultValue 8_000
   */
  checkIntervalMs?: number;
  /** CAS's token path. @defaultValue '/stream/token/v2/' */
  path?: string;
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** @defaultValue console */
  logger?: CasTokenLogger;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  });
}

function failureAnswer(failure: ProxyFailure): Response {
  const headers: Record<string, string> = {};
  if (failure.status >= 500 && failure.status !== 500) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil((failure.retryAfterMs ?? 1_000) / 1000)));
  }
  return json(failure.status, { error: failure.code, message: failure.message }, headers);
}

interface TokenAnswer {
  token: string;
  expiresIn?: number;
  refreshIn?: number;
  checkIn?: number;
  seal?: string;
}

/** An app's own answer from `authorize`, kept out of shared caches unless it says otherwise. */
function appAnswer(response: Response): Response {
  if (response.headers.has('cache-control')) return response;
  const headers = new Headers(response.headers);
  headers.set('Cache-Control', 'no-store');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function withoutBody(response: Response): Response {
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function defaultRoom(request: Request): string | null {
  const rooms = new URL(request.url).searchParams.getAll('room');
  if (rooms.length > 1) throw new ProxyFailure(400, 'invalid-room', 'Name the room once: this request names `room` more than once.');
  const room = rooms[0];
  return room !== undefined && ROOM_PATTERN.test(room) ? room : null;
}

/**
 * Makes the endpoint the browser asks for a CAS token: a Fetch-API handler that keeps the API
 * secret on the server and answers `GET ?room=<room>` (and `HEAD`) with
 * `{ "token": "<jwt>", "expiresIn": <ms left>, "refreshIn": <ms until the room's token rotates>,
 * "checkIn": <ms until the client checks it again>, "seal": "<proof of the token, for the checks>" }`
 * (`Cache-Control: no-store`).
 *
 * Everyone asking for a room before its token rotates gets that same token (a CAS token is one
 * session), across every process sharing `store`, and concurrent requests make one CAS call.
 * Every wait is bounded (`room` + `authorize`, each store call, the CAS call, the room's whole
 * operation), and failures answer `{ "error", "message" }` with a stable `error` code;
 * 502/503/504 carry `Retry-After`. The settings are checked at once: a bad one throws
 * `invalid-config`, naming it. Errors a framework throws for control flow (Next.js's
 * `redirect()`, `notFound()`: anything with a `digest`) pass through untouched.
 *
 * @example
 * ```ts
 * // app/api/cas-token/route.ts (Next.js App Router)
 * import { createCasTokenHandler } from 'react-cas-token/server';
 *
 * export const GET = createCasTokenHandler({
 *   casUrl: process.env.CAS_URL!,
 *   apiKey: process.env.CAS_API_KEY!,
 *   apiSecret: process.env.CAS_API_SECRET!,
 *   authorize: async (request, { room }) => {
 *     const user = await getSession(request);
 *     if (user === null) return false; // 401
 *     return (await mayJoin(user, room)) ? true : 'forbidden'; // 403
 *   },
 * });
 * ```
 */
export function createCasTokenHandler(options: CasTokenHandlerOptions): CasTokenHandler {
  checkCasConfig(options, missingSettingHint());
  const refreshLeadMs = checkDuration('refreshLeadMs', options.refreshLeadMs, DEFAULT_SERVER_REFRESH_LEAD_MS, false);
  const timeoutMs = checkDuration('timeoutMs', options.timeoutMs, DEFAULT_CAS_TIMEOUT_MS, true);
  const storeTimeoutMs = checkDuration('storeTimeoutMs', options.storeTimeoutMs, DEFAULT_STORE_TIMEOUT_MS, true);
  const authorizeTimeoutMs = checkDuration('authorizeTimeoutMs', options.authorizeTimeoutMs, DEFAULT_AUTHORIZE_TIMEOUT_MS, true);
  const failureCacheMs = checkDuration('failureCacheMs', options.failureCacheMs, DEFAULT_FAILURE_CACHE_MS, false);
  const maxConcurrentCasCalls = checkCount('maxConcurrentCasCalls', options.maxConcurrentCasCalls, DEFAULT_MAX_CONCURRENT_CAS_CALLS);
  const { authorize, casUrl, apiKey, apiSecret, path } = options;
  const pickRoom = options.room ?? defaultRoom;
  const logger = options.logger ?? console;
  const secrets = [apiKey, apiSecret];
  const checkIntervalMs = checkDuration('checkIntervalMs', options.checkIntervalMs, DEFAULT_CHECK_INTERVAL_MS, false);
  const sealer = createSealer(apiSecret);
  const store = options.store ?? createMemoryTokenStore();
  const checkStoreSettings = createStoreSettingsCheck(store, { logger, timeoutMs: Math.min(2 * storeTimeoutMs, 2 ** 31 - 1), secrets });
  const rooms = createRoomTokens({
    store,
    fetchToken: (callTimeoutMs, signal) => requestCasToken({ casUrl, apiKey, apiSecret, path, timeoutMs: callTimeoutMs, signal, fetch: options.fetch }),
    refreshLeadMs,
    casTimeoutMs: timeoutMs,
    storeTimeoutMs,
    failureCacheMs,
    maxConcurrentCasCalls,
    logger,
    secrets,
  });

  if (authorize === undefined) {
    logger.warn(
      '[react-cas-token] createCasTokenHandler has no `authorize`: anyone who can reach it gets a CAS token for any room.',
    );
  }

  /** Runs the app's own `room` or `authorize`, within what is left of authorizeTimeoutMs. */
  function appCall<T>(name: 'room' | 'authorize', call: () => T | PromiseLike<T>, deadline: number): Promise<T> {
    return bounded(call, deadline - Date.now(), () => {
      logger.warn(`[react-cas-token] \`${name}\` did not settle within authorizeTimeoutMs (${authorizeTimeoutMs} ms); answering 503.`);
      return new ProxyFailure(503, 'authorize-timeout', 'The access check did not finish in time; try again in a moment.', 1_000);
    }).catch((error: unknown) => {
      if (error instanceof ProxyFailure || isControlFlowError(error)) throw error;
      logger.error(`[react-cas-token] \`${name}\` threw: ${describeError(error, secrets)}`);
      throw new ProxyFailure(500, 'internal', 'The token proxy failed.');
    });
  }

  async function respond(request: Request): Promise<Response> {
    const deadline = Date.now() + authorizeTimeoutMs;
    const room = await appCall('room', () => pickRoom(request), deadline);
    // A lone surrogate has no UTF-8 form: a store would keep the room under another's bytes.
    if (typeof room !== 'string' || room === '' || room.length > MAX_ROOM_LENGTH || !isWellFormed(room)) {
      const hint = options.room === undefined ? ': ?room= with 1-128 letters, digits, _ - . : ~' : '.';
      return failureAnswer(new ProxyFailure(400, 'invalid-room', `Say which room the token is for${hint}`));
    }
    if (authorize !== undefined) {
      const verdict = await appCall('authorize', () => authorize(request, { room }), deadline);
      if (verdict instanceof Response) return appAnswer(verdict);
      if (verdict === 'forbidden') {
        return failureAnswer(new ProxyFailure(403, 'forbidden', 'This user may not have a token for this room.'));
      }
      if (verdict !== true) return failureAnswer(new ProxyFailure(401, 'unauthorized', 'This request may not have a token.'));
    }
    checkStoreSettings();
    const held = await sealer.open(room, request.headers.get(HELD_TOKEN_HEADER));
    return tokenAnswer(room, await rooms.entryFor(room, held));
  }

  /**
   * The answer for the room's entry. The times are counted on the store's clock from now, as the
   * answer leaves: a slow `authorize` or store has already passed, and moves no client's renewal.
   */
  async function tokenAnswer(room: string, entry: RoomEntry): Promise<Response> {
    const seal = await sealer.seal(room, entry);
    const now = Date.now() + rooms.storeOffsetMs();
    const body: TokenAnswer = { token: entry.token };
    if (Number.isFinite(entry.expiresAt)) body.expiresIn = Math.max(0, Math.floor(entry.expiresAt - now));
    body.refreshIn = Math.max(0, Math.floor(entry.rotateAt - now));
    if (checkIntervalMs > 0) body.checkIn = checkIntervalMs;
    body.seal = seal;
    return json(200, body);
  }

  return async function casTokenHandler(request: Request): Promise<Response> {
    const { method } = request;
    if (method !== 'GET' && method !== 'HEAD') {
      return json(405, { error: 'method-not-allowed', message: 'Ask for a token with GET.' }, { Allow: 'GET, HEAD' });
    }
    let response: Response;
    try {
      response = await respond(request);
    } catch (error) {
      if (isControlFlowError(error)) throw error;
      if (!(error instanceof ProxyFailure)) {
        logger.error(`[react-cas-token] The token handler failed: ${describeError(error, secrets)}`);
      }
      response = failureAnswer(error instanceof ProxyFailure ? error : new ProxyFailure(500, 'internal', 'The token proxy failed.'));
    }
    return method === 'HEAD' ? withoutBody(response) : response;
  };
}
