import { CasTokenError, type CasTokenErrorCode, type CasTokenErrorOptions } from './CasTokenError.js';
import { readClaims } from './decodeStreamToken.js';
import { parseRetryAfter } from './parseRetryAfter.js';
import { timeoutSignal } from './timeoutSignal.js';
import { HELD_TOKEN_HEADER } from './heldToken.js';
import { isWellFormed } from './isWellFormed.js';
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
   * How long to wait for the proxy's answer before failing with `timeout`: longer than the
   * proxy's own CAS timeout (10 s), so its 504 `cas-timeout` arrives first.
   * @defaultValue 15_000
   */
  timeoutMs?: number;
  /** The `fetch` to use. @defaultValue globalThis.fetch, read at each request */
  fetch?: typeof fetch;
}

/**
 * Longer than the proxy's own CAS timeout (10 s, `DEFAULT_CAS_TIMEOUT_MS` on the server), so the
 * proxy's 504 `cas-timeout` arrives before the client gives up and blames the proxy; shorter than
 * the provider's 30 s cap on any fetcher (`FETCHER_TIMEOUT_MS`), so this clearer error comes first.
 */
export const DEFAULT_PROXY_TIMEOUT_MS = 15_000;
/** A token answer is under 2 kB and an error body a line of text: no more of an answer is read. */
export const MAX_ANSWER_BYTES = 16 * 1024;

const ignore = () => {};

/**
 * `url` with its `room` parameter set: a `room` already there is replaced, every other parameter
 * kept as written, and a relative URL stays relative (the browser resolves it).
 */
function withRoom(url: string, room: string | undefined): string {
  if (room === undefined) return url;
  // Not a network error to retry: the name can never be sent.
  if (!isWellFormed(room)) throw new CasTokenError('invalid-config', 'The room holds a lone surrogate: it is not text a URL can carry.');
  const hashAt = url.includes('#') ? url.indexOf('#') : url.length;
  const queryAt = url.slice(0, hashAt).includes('?') ? url.indexOf('?') : hashAt;
  const kept = url.slice(queryAt + 1, hashAt).split('&').filter((pair) => pair !== '' && !/^room(=|$)/.test(pair));
  return `${url.slice(0, queryAt)}?${[...kept, `room=${encodeURIComponent(room)}`].join('&')}${url.slice(hashAt)}`;
}

/** Every failure names the proxy, so a wrong URL or route shows in the message. */
function proxyError(url: string, code: CasTokenErrorCode, what: string, options?: CasTokenErrorOptions): CasTokenError {
  return new CasTokenError(code, `The token proxy ${url} ${what}`, options);
}

/**
 * The body as text, or undefined when it is longer than `MAX_ANSWER_BYTES`: then `stop` ends the
 * transfer. The browser drains a clone itself: Chromium reports a request whose body only a
 * script's stream read as cancelled (seen with Next.js's gzipped answers), and its Network panel
 * then shows no answer.
 */
async function readBounded(response: Response, stop: () => void): Promise<string | undefined> {
  const announcedTooLong = Number(response.headers.get('content-length')) > MAX_ANSWER_BYTES;
  if (!announcedTooLong && response.body) {
    response.clone().arrayBuffer().catch(ignore);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (let bytes = 0; ; ) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      bytes += value.byteLength;
      if (bytes > MAX_ANSWER_BYTES) break;
      text += decoder.decode(value, { stream: true });
    }
    reader.cancel().catch(ignore);
  } else if (!announcedTooLong) {
    // A `fetch` option whose responses have no stream: the text is whole already.
    const text = await response.text();
    if (text.length <= MAX_ANSWER_BYTES) return text;
  }
  stop();
  return undefined;
}

async function httpError(response: Response, url: string, stop: () => void): Promise<CasTokenError> {
  const { status } = response;
  let body: { error?: unknown; message?: unknown } = {};
  try {
    // The proxy's JSON error body `{ error, message }`, when it sent one.
    body = JSON.parse((await readBounded(response, stop)) ?? '') ?? {};
  } catch {
    // Not JSON, too long or cut short: the status says enough.
  }
  const proxyCode = typeof body.error === 'string' && /^[\w.-]{1,64}$/.test(body.error) ? body.error : undefined;
  const message = typeof body.message === 'string' ? body.message.trim().slice(0, 300) : '';
  const said = proxyCode || message ? ` (${[proxyCode, message].filter(Boolean).join(': ')})` : '';
  if (status === 401) {
    return proxyError(url, 'unauthorized', `refused the request with HTTP 401${said}: is the user signed in?`, { status, proxyCode });
  }
  // Not a sign-in problem: the user is known, and refused this room.
  if (status === 403) {
    return proxyError(url, 'forbidden', `refused the request with HTTP 403${said}: the user may not join this room.`, { status, proxyCode });
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
  const what =
    proxyCode === 'cas-unauthorized'
      ? ": CAS refused the app's API key or secret. That is a configuration problem on the server (CAS_API_KEY, CAS_API_SECRET), not an outage."
      : '.';
  return proxyError(url, 'http', `answered HTTP ${status}${said}${what}`, { status, retryAfterMs, proxyCode });
}

const looksLikeHtml = (response: Response, text = '') =>
  /html/i.test(response.headers.get('content-type') ?? '') || /^\s*</.test(text);

async function readAnswer(response: Response, url: string, stop: () => void): Promise<Exclude<StreamTokenFetchResult, string>> {
  const text = await readBounded(response, stop);
  // Before the size: a sign-in page may well be larger than any token answer.
  if (response.redirected && looksLikeHtml(response, text)) {
    const to = response.url ? ` at ${new URL(response.url).pathname}` : '';
    throw proxyError(url, 'unauthorized', `was redirected to an HTML page${to}, probably a sign-in page: is the user signed in?`);
  }
  if (text === undefined) {
    throw proxyError(url, 'invalid-response', `answered more than ${MAX_ANSWER_BYTES} bytes, far more than a token: is ${url} routed to the token handler?`);
  }
  let body: { token?: unknown; expiresIn?: unknown } | null;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    const what = looksLikeHtml(response, text) ? 'an HTML page' : 'something that is not JSON';
    throw proxyError(url, 'invalid-response', `answered ${what} instead of JSON: is ${url} routed to the token handler?`, { cause });
  }
  const token = body?.token;
  if (typeof token !== 'string' || token === '') {
    throw proxyError(url, 'invalid-response', 'answered JSON without a string `token`.');
  }
  const { expiresIn, refreshIn, checkIn, seal } = body as { expiresIn?: unknown; refreshIn?: unknown; checkIn?: unknown; seal?: unknown };
  const said = typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : undefined;
  // react-cas-token/server (its answers carry a seal) counts expiresIn on its store's clock, which
  // all its instances share; its Date header is one instance's own clock, which may be minutes off.
  // Another proxy's two statements of its clock: believe the one that leaves the token less time.
  const fromDate = said !== undefined && seal !== undefined ? undefined : expiresInFromDate(token, response.headers.get('date'));
  const left = said === undefined ? fromDate : fromDate === undefined ? said : Math.min(said, fromDate);
  return {
    token,
    ...(left !== undefined && { expiresIn: left }),
    ...(typeof refreshIn === 'number' && Number.isFinite(refreshIn) && { refreshIn }),
    ...(typeof checkIn === 'number' && Number.isFinite(checkIn) && { checkIn }),
    // Passed on as it is: the token fetch checks it.
    ...(seal !== undefined && { seal: seal as string }),
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
 * It fails with a `CasTokenError`: `unauthorized` on 401 and on a redirect to an HTML page (a
 * sign-in page), `forbidden` on 403 (this user may not join this room), `http` on other non-2xx answers (with `status`, `retryAfterMs`, and `proxyCode`
 * from the proxy's JSON error body `{ error, message }`), `invalid-response` on an answer that is
 * not JSON with a string `token` (or larger than 16 kB), `network` when the request fails,
 * `timeout` after `timeoutMs`, `invalid-config` where there is no `fetch` at all (Jest's stock
 * jsdom environment).
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
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS;
  if (!(timeoutMs > 0)) {
    throw new CasTokenError('invalid-config', `createProxyFetcher: timeoutMs must be a positive number of ms, not ${timeoutMs}.`);
  }

  return async ({ signal, room, held }) => {
    const target = withRoom(url, room);
    const timeout = timeoutSignal(signal, timeoutMs);
    try {
      const extra = typeof options.headers === 'function' ? await options.headers() : options.headers;
      const headers = new Headers(extra);
      headers.set('accept', 'application/json');
      if (held) headers.set(HELD_TOKEN_HEADER, `${held.seal} ${held.token}`);
      const doFetch = options.fetch ?? globalThis.fetch;
      // Not a network error: retrying would never help.
      if (typeof doFetch !== 'function') {
        throw new CasTokenError(
          'invalid-config',
          `createProxyFetcher has no \`fetch\` to ask ${url} with: pass one as \`fetch\`, or test in jest-fixed-jsdom (jest-environment-jsdom has none).`,
        );
      }
      const response = await doFetch(target, {
        headers,
        credentials: options.credentials ?? 'same-origin',
        cache: 'no-store',
        signal: timeout.signal,
      });
      if (!response.ok) throw await httpError(response, url, timeout.abort);
      return await readAnswer(response, url, timeout.abort);
    } catch (cause) {
      throw failure(cause);
    } finally {
      timeout.dispose();
    }

    function failure(cause: unknown): unknown {
      // Aborted by the caller: pass the abort on untouched, the token is no longer wanted.
      if (signal.aborted) return signal.reason ?? cause;
      if (cause instanceof CasTokenError) return cause;
      if (timeout.timedOut()) {
        return proxyError(url, 'timeout', `did not answer within ${timeoutMs} ms.`, { cause });
      }
      return proxyError(url, 'network', `could not be reached: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  };
}
