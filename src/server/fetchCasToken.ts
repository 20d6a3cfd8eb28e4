import { CasTokenError } from '../core/CasTokenError.js';
import { parseRetryAfter } from '../core/parseRetryAfter.js';
import { timeoutSignal } from '../core/timeoutSignal.js';
import { checkCasConfig, checkDuration, type CasCredentials } from './casConfig.js';
import { redactError } from './redact.js';

/** CAS's path for a streaming token. */
export const DEFAULT_CAS_TOKEN_PATH = '/stream/token/v2/';
/** How long a CAS call may take, redirects and body included, unless told otherwise. */
export const DEFAULT_CAS_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 5;
/**
 * The largest CAS answer read, in bytes. A token is under 2 kB; anything past this is refused
 * without reading the rest, so a broken or hostile CAS cannot fill the server's memory, and
 * decoding never sees megabytes.
 */
export const MAX_CAS_ANSWER_BYTES = 65_536;

export interface FetchCasTokenOptions extends CasCredentials {
  /**
   * The token path under `casUrl`; also serves CAS's other token paths, e.g. `'/sync/token/'`.
   * @defaultValue '/stream/token/v2/'
   */
  path?: string;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** @defaultValue 10_000 */
  timeoutMs?: number;
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function tooLarge(origin: string): CasTokenError {
  return new CasTokenError(
    'invalid-response',
    `CAS at ${origin} answered more than ${MAX_CAS_ANSWER_BYTES} bytes; a token is under 2 kB, so the rest was not read.`,
  );
}

/** The body as text, refusing (and no longer reading) one past MAX_CAS_ANSWER_BYTES. */
async function readCapped(response: Response, origin: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > MAX_CAS_ANSWER_BYTES) {
    await discard(response);
    throw tooLarge(origin);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_CAS_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(origin);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

async function readToken(response: Response, origin: string, secrets: readonly string[]): Promise<string> {
  if (response.status === 401 || response.status === 403) {
    await discard(response);
    throw new CasTokenError(
      'unauthorized',
      `CAS at ${origin} refused the API key and secret (HTTP ${response.status}): check CAS_API_KEY and CAS_API_SECRET (\`apiKey\`, \`apiSecret\`).`,
      { status: response.status },
    );
  }
  if (!response.ok) {
    await discard(response);
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    const asked = retryAfterMs === undefined ? '' : ` and asked to wait ${Math.ceil(retryAfterMs / 1000)} s`;
    throw new CasTokenError('http', `CAS at ${origin} answered HTTP ${response.status}${asked}.`, {
      status: response.status,
      retryAfterMs,
    });
  }
  const text = await readCapped(response, origin);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    const type = response.headers.get('content-type') ?? 'no content type';
    throw new CasTokenError(
      'invalid-response',
      `CAS at ${origin} answered ${type}, not JSON: is \`casUrl\` (CAS_URL) the CAS server, and the path right?`,
      // The parser quotes the body, and a misrouted answer could echo the request's headers.
      { cause: redactError(cause, secrets) },
    );
  }
  const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new CasTokenError('invalid-response', `CAS at ${origin} answered JSON without a \`token\`.`);
  }
  return token;
}

/** A token as CAS answered it, with what tells CAS's clock: its `Date` header, and when the call ran. */
export interface CasAnswer {
  token: string;
  /** CAS's `Date` header, epoch ms (to the second), when it sent one that parses. */
  casDate: number | undefined;
  /** When the call started and when the answer was read, on this server's clock. */
  sentAt: number;
  receivedAt: number;
}

/**
 * Asks CAS for one new token: `GET {casUrl}{path}` with the `auth-api-key` and
 * `auth-api-secret` headers. Server-side only: it needs the API secret.
 *
 * Redirects are followed by hand, at most 5, and only within CAS's own origin: `fetch` would
 * re-send the secret header to whatever origin a redirect names. Every failure is a
 * `CasTokenError`: `unauthorized` (401/403), `http` (other non-2xx, with `status`, and
 * `retryAfterMs` from CAS's `Retry-After`), `network`, `timeout`, `invalid-response` (not
 * JSON, no `token`, an answer over 64 kB, a redirect elsewhere or too many), or
 * `invalid-config` (a missing or malformed setting). No message, and no `cause`, ever holds the
 * key or the secret.
 *
 * @example
 * ```ts
 * const token = await fetchCasToken({
 *   casUrl: process.env.CAS_URL!,
 *   apiKey: process.env.CAS_API_KEY!,
 *   apiSecret: process.env.CAS_API_SECRET!,
 * });
 * ```
 */
export async function fetchCasToken(options: FetchCasTokenOptions): Promise<string> {
  return (await requestCasToken(options)).token;
}

/** `fetchCasToken`, also telling when it ran and what CAS's clock said (for the handler). */
export async function requestCasToken(options: FetchCasTokenOptions): Promise<CasAnswer> {
  const sentAt = Date.now();
  const base = checkCasConfig(options);
  const timeoutMs = checkDuration('timeoutMs', options.timeoutMs, DEFAULT_CAS_TIMEOUT_MS, true);
  const doFetch = options.fetch ?? globalThis.fetch;
  const origin = base.origin;
  const path = options.path ?? DEFAULT_CAS_TOKEN_PATH;
  let url = new URL(`${base.href.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`);
  const secrets = [options.apiKey, options.apiSecret];
  const headers = { 'auth-api-key': options.apiKey, 'auth-api-secret': options.apiSecret, Accept: 'application/json' };

  const { signal } = options;
  if (signal?.aborted) throw aborted(signal.reason, secrets);
  const timeout = timeoutSignal(signal, timeoutMs);

  try {
    for (let hops = 0; ; hops += 1) {
      const response = await doFetch(url, { method: 'GET', headers, redirect: 'manual', signal: timeout.signal });
      if (response.type === 'opaqueredirect') {
        throw new CasTokenError('invalid-response', `CAS at ${origin} answered a redirect this runtime does not show.`);
      }
      if (!isRedirect(response.status)) {
        const token = await readToken(response, origin, secrets);
        const casDate = Date.parse(response.headers.get('date') ?? '');
        return { token, casDate: Number.isNaN(casDate) ? undefined : casDate, sentAt, receivedAt: Date.now() };
      }
      await discard(response);
      const location = response.headers.get('location');
      if (location === null) {
        throw new CasTokenError('invalid-response', `CAS at ${origin} answered HTTP ${response.status} without a Location.`);
      }
      const next = URL.canParse(location, url) ? new URL(location, url) : undefined;
      if (next === undefined) {
        throw new CasTokenError('invalid-response', `CAS at ${origin} redirected to a Location that is not a URL.`);
      }
      if (next.origin !== origin) {
        throw new CasTokenError(
          'invalid-response',
          `CAS at ${origin} redirected to ${next.origin}; the API secret is only ever sent to the CAS URL's own origin. If CAS has moved, set \`casUrl\` (CAS_URL) to the new address.`,
        );
      }
      if (hops >= MAX_REDIRECTS) {
        throw new CasTokenError('invalid-response', `CAS at ${origin} redirected more than ${MAX_REDIRECTS} times.`);
      }
      url = next;
    }
  } catch (error) {
    if (error instanceof CasTokenError) throw error;
    const cause = redactError(error, secrets);
    if (timeout.timedOut()) {
      throw new CasTokenError('timeout', `CAS at ${origin} did not answer within ${timeoutMs} ms.`, { cause });
    }
    if (signal?.aborted) throw aborted(signal.reason, secrets);
    throw new CasTokenError('network', `Could not reach CAS at ${origin}.`, { cause });
  } finally {
    timeout.dispose();
  }
}

function aborted(reason: unknown, secrets: readonly string[]): CasTokenError {
  const cause = redactError(reason, secrets);
  // An AbortSignal.timeout() from the caller is a timeout; any other abort is the caller's choice.
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new CasTokenError('timeout', 'The CAS call was given up: its signal timed out.', { cause });
  }
  return new CasTokenError('network', 'The CAS call was aborted by its signal.', { cause });
}
