import { CasTokenError } from '../core/CasTokenError.js';
import { timeoutSignal } from '../core/timeoutSignal.js';
import { checkCasConfig, checkDuration, type CasCredentials } from './casConfig.js';

/** CAS's path for a streaming token. */
export const DEFAULT_CAS_TOKEN_PATH = '/stream/token/v2/';
/** How long a CAS call may take, redirects and body included, unless told otherwise. */
export const DEFAULT_CAS_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 5;

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

async function readToken(response: Response, origin: string): Promise<string> {
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
    throw new CasTokenError('http', `CAS at ${origin} answered HTTP ${response.status}.`, { status: response.status });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    const type = response.headers.get('content-type') ?? 'no content type';
    throw new CasTokenError(
      'invalid-response',
      `CAS at ${origin} answered ${type}, not JSON: is \`casUrl\` (CAS_URL) the CAS server, and the path right?`,
      { cause },
    );
  }
  const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new CasTokenError('invalid-response', `CAS at ${origin} answered JSON without a \`token\`.`);
  }
  return token;
}

/**
 * Asks CAS for one new token: `GET {casUrl}{path}` with the `auth-api-key` and
 * `auth-api-secret` headers. Server-side only: it needs the API secret.
 *
 * Redirects are followed by hand, at most 5, and only within CAS's own origin: `fetch` would
 * re-send the secret header to whatever origin a redirect names. Every failure is a
 * `CasTokenError`: `unauthorized` (401/403), `http` (other non-2xx, with `status`), `network`,
 * `timeout`, `invalid-response` (not JSON, no `token`, a redirect elsewhere or too many), or
 * `invalid-config` (a missing or non-https setting). No message ever holds the key or secret.
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
  const base = checkCasConfig(options);
  const timeoutMs = checkDuration('timeoutMs', options.timeoutMs, DEFAULT_CAS_TIMEOUT_MS, true);
  const doFetch = options.fetch ?? globalThis.fetch;
  const origin = base.origin;
  const path = options.path ?? DEFAULT_CAS_TOKEN_PATH;
  let url = new URL(`${base.href.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`);
  const headers = { 'auth-api-key': options.apiKey, 'auth-api-secret': options.apiSecret, Accept: 'application/json' };

  const { signal } = options;
  if (signal?.aborted) throw aborted(signal.reason);
  const timeout = timeoutSignal(signal, timeoutMs);

  try {
    for (let hops = 0; ; hops += 1) {
      const response = await doFetch(url, { method: 'GET', headers, redirect: 'manual', signal: timeout.signal });
      if (response.type === 'opaqueredirect') {
        throw new CasTokenError('invalid-response', `CAS at ${origin} answered a redirect this runtime does not show.`);
      }
      if (!isRedirect(response.status)) return await readToken(response, origin);
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
    if (timeout.timedOut()) {
      throw new CasTokenError('timeout', `CAS at ${origin} did not answer within ${timeoutMs} ms.`, { cause: error });
    }
    if (signal?.aborted) throw aborted(signal.reason);
    throw new CasTokenError('network', `Could not reach CAS at ${origin}.`, { cause: error });
  } finally {
    timeout.dispose();
  }
}

function aborted(reason: unknown): CasTokenError {
  // An AbortSignal.timeout() from the caller is a timeout; any other abort is the caller's choice.
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new CasTokenError('timeout', 'The CAS call was given up: its signal timed out.', { cause: reason });
  }
  return new CasTokenError('network', 'The CAS call was aborted by its signal.', { cause: reason });
}
