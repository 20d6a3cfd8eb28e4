import { jwtDecode, type JwtPayload } from 'jwt-decode';
import { CasTokenError } from './CasTokenError.js';
import { computeRefreshAt, DEFAULT_REFRESH_LEAD_MS } from './refreshTiming.js';

/** The claims of a CAS streaming token: `rid` and `unct` as CAS writes them, and any others. */
export interface CasTokenClaims extends JwtPayload {
  rid?: string;
  unct?: unknown;
  [claim: string]: unknown;
}

/** A decoded token and its lifetime. Every time is epoch ms on the local clock. */
export interface StreamTokenInfo {
  /** The raw JWT, to hand to the video SDK. */
  token: string;
  claims: CasTokenClaims;
  /** When the token was issued, corrected to the local clock; undefined without `iat`. */
  issuedAt: number | undefined;
  /** When the token stops working. `Infinity` for a token that carries no expiry at all. */
  expiresAt: number;
  /** When a new token is asked for (before `expiresAt`). `Infinity` when `expiresAt` is. */
  refreshAt: number;
  /** When the token arrived. */
  receivedAt: number;
}

export interface DecodeStreamTokenOptions {
  /**
   * How long the token had left when it arrived, in ms, as the proxy said (`expiresIn`). When
   * given it wins over the claims: it is right whatever the local clock says and however long
   * a proxy cached the token.
   */
  expiresIn?: number;
  /** @defaultValue 60_000 */
  refreshLeadMs?: number;
}

function invalid(message: string, cause?: unknown): CasTokenError {
  return new CasTokenError('invalid-token', message, { cause });
}

function readTime(claims: CasTokenClaims, name: 'exp' | 'iat'): number | undefined {
  const value: unknown = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`The token's \`${name}\` claim is not a number of seconds.`);
  }
  return value * 1000;
}

/** Reads a JWT's claims, or throws `invalid-token` with a message that says what is wrong. */
export function readClaims(token: unknown): CasTokenClaims {
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw invalid('The token is not a JWT (three dot-separated parts).');
  }
  let claims: unknown;
  try {
    claims = jwtDecode(token);
  } catch (cause) {
    throw invalid('The token is not a decodable JWT.', cause);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw invalid("The token's payload is not a JSON object.");
  }
  return claims as CasTokenClaims;
}

/**
 * When the token expires on the local clock, given when it arrived.
 *
 * `expiresIn` (from the proxy) counts from arrival. Otherwise `exp` is read on the local clock,
 * unless that clock is provably wrong: the token was issued in the future, or had expired
 * before it arrived. Then the lifetime `exp - iat` counts from arrival. A token without `exp`
 * never expires on the client (`Infinity`): only `refresh()` replaces it.
 */
export function readExpiry(claims: CasTokenClaims, receivedAt: number, expiresIn?: number) {
  const exp = readTime(claims, 'exp');
  const iat = readTime(claims, 'iat');
  if (exp !== undefined && iat !== undefined && exp <= iat) {
    throw invalid('The token expires before it was issued (`exp` <= `iat`).');
  }
  let expiresAt: number;
  if (expiresIn !== undefined) {
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw invalid(`The token had expired when it arrived (expiresIn: ${expiresIn}).`);
    }
    expiresAt = receivedAt + expiresIn;
  } else if (exp === undefined) {
    expiresAt = Number.POSITIVE_INFINITY;
  } else if (iat !== undefined && (iat > receivedAt || exp <= receivedAt)) {
    expiresAt = receivedAt + (exp - iat);
  } else {
    expiresAt = exp;
  }
  // The same shift from the token's clock to ours applies to `iat`.
  const shift = exp === undefined || expiresAt === Number.POSITIVE_INFINITY ? 0 : expiresAt - exp;
  const issuedAt = iat === undefined ? undefined : iat + shift;
  return { expiresAt, issuedAt };
}

/**
 * Decodes a CAS token and works out when it expires and when to renew it on the local clock.
 * Throws a `CasTokenError` with code `invalid-token` for anything that is not a usable JWT.
 *
 * @example
 * ```ts
 * const { claims, expiresAt, refreshAt } = decodeStreamToken(token);
 * ```
 */
export function decodeStreamToken(
  token: string,
  receivedAt: number = Date.now(),
  options: DecodeStreamTokenOptions = {},
): StreamTokenInfo {
  const claims = readClaims(token);
  const { expiresAt, issuedAt } = readExpiry(claims, receivedAt, options.expiresIn);
  const refreshAt = computeRefreshAt(receivedAt, expiresAt, options.refreshLeadMs ?? DEFAULT_REFRESH_LEAD_MS);
  return { token, claims, issuedAt, expiresAt, refreshAt, receivedAt };
}
