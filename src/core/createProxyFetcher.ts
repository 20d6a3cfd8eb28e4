import { CasTokenError, type CasTokenErrorCode, type CasTokenErrorOptions } from './CasTokenError.js';
import { readClaims } from './decodeStreamToken.js';
import { parseRetryAfter } from './parseRetryAfter.js';
import { timeoutSignal } from './timeoutSignal.js';
import type { StreamTokenFetcher, StreamTokenFetchResult } from './StreamTokenFetcher.js';

export interface ProxyFetcherOptions {
  /**
   * Extra request headers, e.g. the app's own session token. A function is called for every
   * request, so a header that changes (a renewed session token) is always current.
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** @defaultValue 'same-origin' */
  credentials?: RequestCredentials;
  /**
   * How long to wait for the proxy before failing with `timeout`.
   * @defaultValue 10_000
   */
  timeoutMs?: number;
  /** The `fetch` to use. @defaultValue globalThis.fetch, read at each request */
  fetch?: typeof fetch;
}

function withRoom(url: string, room: string | undefined): string {
  if (room === undefined) return url;
  const [path, hash] = url.split('#', 2) as [string, string | undefined];
  const joined = `${path}${path.includes('?') ? '&' : '?'}room=${encodeURIComponent(room)}`;
  return hash === undefined ? joined : `${joined}#${hash}`;
}

/** Every failure names the proxy, so a wrong URL or route shows in the message. */
function proxyError(url: string, code: CasTokenErrorCode, what: string, options?: CasTokenErrorOptions): CasTokenError {
  return new CasTokenError(code, `The token proxy ${url} ${what}`, options);
}

function httpError(response: Response, url: string): CasTokenError {
  const { status } = response;
  if (status === 401 || status === 403) {
    return proxyError(url, 'unauthorized', `refused the request (HTTP ${status}): is the user signed in?`, { status });
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
  return proxyError(url, 'http', `answered HTTP ${status}.`, { status, retryAfterMs });
}

async function readAnswer(response: Response, url: string): Promise<Exclude<StreamTokenFetchResult, string>> {
  const text = await response.text();
  let body: { token?: unknown; expiresIn?: unknown } | null;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    const html = /html/i.test(response.headers.get('content-type') ?? '') || /^\s*</.test(text);
    const what = html ? 'an HTML page' : 'something that is not JSON';
    throw proxyError(url, 'invalid-response', `answered ${what} instead of JSON: is ${url} routed to the token handler?`, { cause });
  }
  const token = body?.token;
  if (typeof token !== 'string' || token === '') {
    throw proxyError(url, 'invalid-response', 'answered JSON without a string `token`.');
  }
  const { expiresIn, refreshIn } = body as { expiresIn?: unknown; refreshIn?: unknown };
  const fromDate = expiresInFromDate(token, response.headers.get('date'));
  const said = typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : undefined;
  // Two statements of the server's clock: believe the one that leaves the token less time.
  const left = said === undefined ? fromDate : fromDate === undefined ? said : Math.min(said, fromDate);
  return {
    token,
    ...(left !== undefined && { expiresIn: left }),
    ...(typeof refreshIn === 'number' && Number.isFinite(refreshIn) && { refreshIn }),
  };
}

/** CAS and the proxy may disagree by this much about the time; a `Date` further before `iat` is broken. */
const MAX_ISSUE_SKEW_MS = 5 * 60_000;
/** Without `iat` to check it against, a `Date` this far from the local clock is broken. */
const MAX_DATE_SKEW_MS = 24 * 60 * 60_000;

/**
 * The answer's `Date` header (the server's clock) tells how long the token has left, whatever
 * the browser's clock says, to the second. A `Date` before the token was issued (a server
 * reporting 1970), or a day away from the local clock when the token has no `iat`, is ignored.
 */
function expiresInFromDate(token: string, date: string | null): number | undefined {
  const serverNow = date === null ? Number.NaN : Date.parse(date);
  if (Number.isNaN(serverNow)) return undefined;
  const { exp, iat } = readClaims(token);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  const sane =
    typeof iat === 'number' ? serverNow >= iat * 1000 - MAX_ISSUE_SKEW_MS : Math.abs(serverNow - Date.now()) <= MAX_DATE_SKEW_MS;
  return sane ? exp * 1000 - serverNow : undefined;
}

/**
 * Makes a fetcher that asks the app's own backend proxy (`react-cas-token/server`'s handler, or
 * any endpoint answering `{ token, expiresIn? }`) for a token: `GET url?room=<room>`.
 *
 * It fails with a `CasTokenError`: `unauthorized` on 401/403, `http` on other non-2xx answers
 * (with `status` and `retryAfterMs`), `invalid-response` on an answer that is not JSON with a
 * string `token`, `network` when the request fails, `timeout` after `timeoutMs`.
 *
 * @example
 * ```tsx
 * const fetcher = createProxyFetcher('/api/cas-token', {
 *   headers: () => ({ authorization: `Bearer ${session.accessToken}` }),
 * });
 * <CasTokenProvider fetcher={fetcher} room="movie-night-42">...</CasTokenProvider>
 * ```
 */
export function createProxyFetcher(url: string, options: ProxyFetcherOptions = {}): StreamTokenFetcher {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new CasTokenError('invalid-config', 'createProxyFetcher needs the URL of your token proxy, e.g. "/api/cas-token".');
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(timeoutMs > 0)) {
    throw new CasTokenError('invalid-config', `createProxyFetcher: timeoutMs must be a positive number of ms, not ${timeoutMs}.`);
  }

  return async ({ signal, room }) => {
    const target = withRoom(url, room);
    const timeout = timeoutSignal(signal, timeoutMs);
    try {
      const extra = typeof options.headers === 'function' ? await options.headers() : options.headers;
      const headers = new Headers(extra);
      headers.set('accept', 'application/json');
      const response = await (options.fetch ?? globalThis.fetch)(target, {
        headers,
        credentials: options.credentials ?? 'same-origin',
        cache: 'no-store',
        signal: timeout.signal,
      });
      if (!response.ok) throw httpError(response, url);
      return await readAnswer(response, url);
    } catch (cause) {
      throw failure(cause);
    } finally {
      timeout.dispose();
    }

    function failure(cause: unknown): unknown {
      if (cause instanceof CasTokenError) return cause;
      // Aborted by the caller: pass the abort on untouched, the token is no longer wanted.
      if (signal.aborted) return signal.reason ?? cause;
      if (timeout.timedOut()) {
        return proxyError(url, 'timeout', `did not answer within ${timeoutMs} ms.`, { cause });
      }
      return proxyError(url, 'network', `could not be reached: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  };
}
