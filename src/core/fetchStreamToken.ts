import { CasTokenError, isCasTokenError } from './CasTokenError.js';
import { decodeStreamToken, type StreamTokenInfo } from './decodeStreamToken.js';
import type { StreamTokenFetcher, StreamTokenFetcherContext } from './StreamTokenFetcher.js';
import { timeoutSignal } from './timeoutSignal.js';

/**
 * The longest a fetcher may take before the request counts as a `timeout`, whether or not the
 * fetcher honours its signal: a custom fetcher with no timeout of its own must not stop renewal.
 * Longer than `createProxyFetcher`'s own timeout, so its clearer error comes first.
 */
export const FETCHER_TIMEOUT_MS = 30_000;

/** A seal is a short opaque string the proxy made: it travels back in a header, so no more. */
const MAX_SEAL_LENGTH = 256;
const isSeal = (value: unknown): value is string => typeof value === 'string' && /^[\w.-]+$/.test(value) && value.length <= MAX_SEAL_LENGTH;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return 'an object without a string `token`';
  return `a ${typeof value}`;
}

/** Settles with the fetcher, or rejects as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * One token request through the app's fetcher: checks and decodes the answer, and turns
 * whatever goes wrong into a `CasTokenError` (an abort is passed on as it is).
 */
export async function fetchStreamToken(
  fetcher: StreamTokenFetcher,
  {
    signal,
    room,
    held,
    refreshLeadMs,
    timeoutMs = FETCHER_TIMEOUT_MS,
  }: {
    signal: AbortSignal;
    room: string | undefined;
    /** The token held now, sent back with its seal when the proxy gave one. */
    held?: StreamTokenInfo | undefined;
    refreshLeadMs: number;
    timeoutMs?: number;
  },
): Promise<StreamTokenInfo> {
  let result: unknown;
  const sentAt = Date.now();
  const timeout = timeoutSignal(signal, timeoutMs);
  const timedOut = () =>
    new CasTokenError('timeout', `The token fetcher did not settle within ${timeoutMs} ms.`);
  try {
    const context: StreamTokenFetcherContext = { signal: timeout.signal };
    if (room !== undefined) context.room = room;
    // Only an unexpired token with a seal proves anything to the proxy.
    if (held?.seal !== undefined && held.expiresAt > sentAt) context.held = { token: held.token, seal: held.seal };
    const call = Promise.resolve().then(() => fetcher(context));
    result = await untilAborted(call, timeout.signal, () => (timeout.timedOut() ? timedOut() : signal.reason));
  } catch (cause) {
    if (signal.aborted || isCasTokenError(cause)) throw cause;
    if (timeout.timedOut()) throw timedOut();
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new CasTokenError('network', `The token fetcher failed: ${message}`, { cause });
  } finally {
    timeout.dispose();
  }
  const receivedAt = Date.now();
  if (typeof result === 'string' && result !== '') return decodeStreamToken(result, receivedAt, { refreshLeadMs, sentAt });
  const { token, expiresIn, refreshIn, checkIn, seal } = (result ?? {}) as Partial<Record<string, unknown>>;
  if (typeof token !== 'string' || token === '') {
    throw new CasTokenError(
      'invalid-response',
      `The token fetcher resolved with ${describe(result)}, not a token string or { token, expiresIn?, refreshIn? }.`,
    );
  }
  for (const [name, value] of [['expiresIn', expiresIn], ['refreshIn', refreshIn], ['checkIn', checkIn]] as const) {
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
      throw new CasTokenError('invalid-response', `The token fetcher's ${name} is ${describe(value)}, not a number of ms.`);
    }
  }
  if (seal !== undefined && !isSeal(seal)) {
    throw new CasTokenError('invalid-response', `The token fetcher's seal is ${describe(seal)}, not the proxy's seal (up to ${MAX_SEAL_LENGTH} characters).`);
  }
  return decodeStreamToken(token, receivedAt, {
    refreshLeadMs,
    sentAt,
    ...(expiresIn !== undefined && { expiresIn: expiresIn as number }),
    ...(refreshIn !== undefined && { refreshIn: refreshIn as number }),
    ...(checkIn !== undefined && { checkIn: checkIn as number }),
    ...(seal !== undefined && { seal }),
  });
}
