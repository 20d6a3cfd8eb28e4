import { CasTokenError, isCasTokenError } from './CasTokenError.js';
import { decodeStreamToken, type StreamTokenInfo } from './decodeStreamToken.js';
import type { StreamTokenFetcher } from './StreamTokenFetcher.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object without a string `token`';
  return `a ${typeof value}`;
}

/**
 * One token request through the app's fetcher: checks and decodes the answer, and turns
 * whatever goes wrong into a `CasTokenError` (an abort is passed on as it is).
 */
export async function fetchStreamToken(
  fetcher: StreamTokenFetcher,
  { signal, room, refreshLeadMs }: { signal: AbortSignal; room: string | undefined; refreshLeadMs: number },
): Promise<StreamTokenInfo> {
  let result: unknown;
  try {
    result = await fetcher(room === undefined ? { signal } : { signal, room });
  } catch (cause) {
    if (signal.aborted || isCasTokenError(cause)) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new CasTokenError('network', `The token fetcher failed: ${message}`, { cause });
  }
  const receivedAt = Date.now();
  if (typeof result === 'string' && result !== '') return decodeStreamToken(result, receivedAt, { refreshLeadMs });
  const { token, expiresIn } = (result ?? {}) as { token?: unknown; expiresIn?: unknown };
  if (typeof token !== 'string' || token === '') {
    throw new CasTokenError(
      'invalid-response',
      `The token fetcher resolved with ${describe(result)}, not a token string or { token, expiresIn? }.`,
    );
  }
  if (expiresIn !== undefined && typeof expiresIn !== 'number') {
    throw new CasTokenError('invalid-response', `The token fetcher's expiresIn is ${describe(expiresIn)}, not a number of ms.`);
  }
  return decodeStreamToken(token, receivedAt, { refreshLeadMs, ...(expiresIn !== undefined && { expiresIn }) });
}
