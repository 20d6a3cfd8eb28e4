import { CasTokenError, isCasTokenError, type CasTokenErrorCode } from '../core/CasTokenError.js';
import { readClaims, readExpiry } from '../core/decodeStreamToken.js';
import { computeRefreshAt } from '../core/refreshTiming.js';
import { checkCasConfig, checkDuration, type CasCredentials } from './casConfig.js';
import { createMemoryTokenStore } from './createMemoryTokenStore.js';
import { DEFAULT_CAS_TIMEOUT_MS, fetchCasToken } from './fetchCasToken.js';
import type { TokenStore } from './TokenStore.js';

/** How long before a token's expiry the handler stops handing it out, unless the token is short. */
export const DEFAULT_SERVER_REFRESH_LEAD_MS = 300_000;
/** How long a token that carries no `exp` is handed out. */
const NO_EXPIRY_REUSE_MS = 3_600_000;
/** The rooms the default `room` option accepts: 1 to 128 letters, digits, `_`, `-`, `.`, `:` or `~`. */
const ROOM_PATTERN = /^[A-Za-z0-9_.:~-]{1,128}$/;

/** Where the handler writes what went wrong on the server side. `console` fits. */
export interface CasTokenLogger {
  warn(message: string): void;
  error(message: string): void;
}

/** A standard Fetch-API handler: Next.js route handlers, Hono, Workers, Deno, Bun take it as is. */
export type CasTokenHandler = (request: Request) => Promise<Response>;

export interface CasTokenHandlerOptions extends CasCredentials {
  /**
   * Decides whether this request may have a token, e.g. by checking the app's session. Runs
   * before anything else; false answers 401 and CAS is not called. Without it anyone who can
   * reach the endpoint gets a token for any room (the handler warns once when created).
   */
  authorize?: (request: Request) => boolean | Promise<boolean>;
  /**
   * The room (CAS session) a request is for; null answers 400. What it returns is used as is.
   * @defaultValue the `room` query parameter, 1-128 of `A-Z a-z 0-9 _ - . : ~`
   */
  room?: (request: Request) => string | null | Promise<string | null>;
  /**
   * Where each room's token is kept. Share one (Redis, ...) between processes to hand out one
   * token per room across all of them.
   * @defaultValue createMemoryTokenStore(): in memory, at most 10_000 rooms
   */
  store?: TokenStore;
  /**
   * A room's token is handed out until this long before it expires; then the next request gets
   * a new one. Never less than half of a token's life, so short tokens are still reused.
   * @defaultValue 300_000
   */
  refreshLeadMs?: number;
  /** How long a CAS call may take before the request answers 504. @defaultValue 10_000 */
  timeoutMs?: number;
  /** CAS's token path. @defaultValue '/stream/token/v2/' */
  path?: string;
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** @defaultValue console */
  logger?: CasTokenLogger;
}

interface Entry {
  token: string;
  /** Epoch ms; Infinity for a token without `exp`. JSON writes Infinity as null. */
  expiresAt: number;
}

const PUBLIC_MESSAGES: Record<CasTokenErrorCode, string> = {
  unauthorized: "The token service refused this server's credentials.",
  http: 'The token service answered with an error.',
  network: 'The token service could not be reached.',
  timeout: 'The token service did not answer in time.',
  'invalid-response': 'The token service gave an answer that is not a token.',
  'invalid-token': 'The token service gave a token that cannot be used.',
  'invalid-config': 'The token proxy is not configured correctly.',
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
  });
}

function fail(status: number, error: string, message: string, headers?: Record<string, string>): Response {
  return json(status, { error, message }, headers);
}

function encode(entry: Entry): string {
  return JSON.stringify({ token: entry.token, expiresAt: Number.isFinite(entry.expiresAt) ? entry.expiresAt : null });
}

function decode(value: string | null | undefined): Entry | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as { token?: unknown; expiresAt?: unknown };
    if (typeof parsed.token !== 'string') return undefined;
    if (parsed.expiresAt === null) return { token: parsed.token, expiresAt: Number.POSITIVE_INFINITY };
    if (typeof parsed.expiresAt !== 'number') return undefined;
    return { token: parsed.token, expiresAt: parsed.expiresAt };
  } catch {
    return undefined;
  }
}

function defaultRoom(request: Request): string | null {
  const room = new URL(request.url).searchParams.get('room');
  return room !== null && ROOM_PATTERN.test(room) ? room : null;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Makes the endpoint the browser asks for a CAS token: a Fetch-API handler that keeps the API
 * secret on the server and answers `GET ?room=<room>` with
 * `{ "token": "<jwt>", "expiresIn": <ms left> }` (`Cache-Control: no-store`).
 *
 * Everyone asking for a room while its token is fresh gets that same token (a CAS token is one
 * session), and concurrent requests for a room make one CAS call between them. Errors answer
 * `{ "error", "message" }`: 405 for other methods, 401 when `authorize` says no, 400 for a
 * missing or bad room, 502 when CAS fails (`cas-unauthorized` when it refuses the key), 504
 * when it times out. The settings are checked at once: a missing one throws `invalid-config`.
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
 *   authorize: async (request) => Boolean(await getSession(request)),
 * });
 * ```
 */
export function createCasTokenHandler(options: CasTokenHandlerOptions): CasTokenHandler {
  checkCasConfig(options);
  const refreshLeadMs = checkDuration('refreshLeadMs', options.refreshLeadMs, DEFAULT_SERVER_REFRESH_LEAD_MS, false);
  const timeoutMs = checkDuration('timeoutMs', options.timeoutMs, DEFAULT_CAS_TIMEOUT_MS, true);
  const { authorize, casUrl, apiKey, apiSecret, path } = options;
  const pickRoom = options.room ?? defaultRoom;
  const store = options.store ?? createMemoryTokenStore();
  const logger = options.logger ?? console;
  const doFetch = options.fetch;
  // One CAS call at a time per room in this process; the store settles races between processes.
  const flights = new Map<string, Promise<Entry>>();

  if (authorize === undefined) {
    logger.warn(
      '[react-cas-token] createCasTokenHandler has no `authorize`: anyone who can reach it gets a CAS token for any room.',
    );
  }

  async function fetchEntry(room: string): Promise<Entry> {
    const stored = decode(await store.get(room));
    if (stored !== undefined && stored.expiresAt > Date.now()) return stored;
    // Not the request's signal: the call is shared by every request for the room.
    const token = await fetchCasToken({ casUrl, apiKey, apiSecret, path, timeoutMs, fetch: doFetch });
    const receivedAt = Date.now();
    const { expiresAt } = readExpiry(readClaims(token), receivedAt);
    const refreshAt = computeRefreshAt(receivedAt, expiresAt, refreshLeadMs);
    const ttlMs = Number.isFinite(refreshAt) ? Math.max(1, Math.floor(refreshAt - receivedAt)) : NO_EXPIRY_REUSE_MS;
    const entry = { token, expiresAt };
    if (await store.setIfAbsent(room, encode(entry), ttlMs)) return entry;
    // Another process stored a token for this room first: everyone joins that session.
    return decode(await store.get(room)) ?? entry;
  }

  function entryFor(room: string): Promise<Entry> {
    let flight = flights.get(room);
    if (flight === undefined) {
      flight = fetchEntry(room).finally(() => flights.delete(room));
      flights.set(room, flight);
    }
    return flight;
  }

  function casFailure(error: CasTokenError): Response {
    if (error.code === 'unauthorized') {
      logger.error(`[react-cas-token] ${error.message} Every token request fails until the key or secret is fixed.`);
    } else if (error.code === 'network' || error.code === 'timeout' || error.code === 'http') {
      logger.warn(`[react-cas-token] ${error.message}`);
    } else {
      logger.error(`[react-cas-token] ${error.message}`);
    }
    return fail(error.code === 'timeout' ? 504 : 502, `cas-${error.code}`, PUBLIC_MESSAGES[error.code]);
  }

  return async function casTokenHandler(request: Request): Promise<Response> {
    if (request.method !== 'GET') {
      return fail(405, 'method-not-allowed', 'Ask for a token with GET.', { Allow: 'GET' });
    }
    try {
      if (authorize !== undefined && !(await authorize(request))) {
        return fail(401, 'unauthorized', 'This request may not have a token.');
      }
      const room = await pickRoom(request);
      if (typeof room !== 'string' || room === '') {
        const hint = options.room === undefined ? ': ?room= with 1-128 letters, digits, _ - . : ~' : '.';
        return fail(400, 'invalid-room', `Say which room the token is for${hint}`);
      }
      const entry = await entryFor(room);
      const body: { token: string; expiresIn?: number } = { token: entry.token };
      if (Number.isFinite(entry.expiresAt)) body.expiresIn = Math.max(0, Math.floor(entry.expiresAt - Date.now()));
      return json(200, body);
    } catch (error) {
      if (isCasTokenError(error)) return casFailure(error);
      logger.error(`[react-cas-token] The token handler failed: ${describe(error)}`);
      return fail(500, 'internal', 'The token proxy failed.');
    }
  };
}
