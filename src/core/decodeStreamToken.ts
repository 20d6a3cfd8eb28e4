import { jwtDecode, type JwtPayload } from 'jwt-decode';
import { CasTokenError } from './CasTokenError.js';
import { computeRefreshAt, DEFAULT_REFRESH_LEAD_MS, MIN_RENEWAL_GAP_MS } from './refreshTiming.js';

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
  /**
   * When a new token is asked for: before `expiresAt`, and at `rotateAt` when the proxy set one.
   * `Infinity` for a token without expiry that the proxy never rotates.
   */
  refreshAt: number;
  /**
   * When the proxy said it replaces this room's token (its `refreshIn`), on the local clock;
   * undefined when it did not say. Every participant renews then, so they switch together.
   */
  rotateAt: number | undefined;
  /** When the token arrived. */
  receivedAt: number;
  /**
   * How often the proxy wants the token checked, in ms (its `checkIn`): each check sends the
   * token back with its `seal`, so a proxy whose store lost the room puts it back, and a tab
   * holding another token than the room's switches to the room's. Undefined: never checked.
   */
  checkIntervalMs?: number | undefined;
  /** The proxy's seal of the token (opaque), sent back with each check and renewal. */
  seal?: string | undefined;
}

export interface DecodeStreamTokenOptions {
  /**
   * How long the token had left, in ms, as the proxy said (`expiresIn`), counted from `sentAt`.
   * When given it wins over the local clock: it is right however wrong that clock is and however
   * long a proxy cached the token. It is capped by the token's own lifetime (`exp - iat`).
   */
  expiresIn?: number;
  /**
   * How long until the proxy replaces the room's token, in ms, counted from `receivedAt`: the
   * proxy counts it as its answer leaves, so however long the request waited (a slow sign-in
   * check), every participant renews at the same moment.
   */
  refreshIn?: number;
  /**
   * When the request was sent. `expiresIn` counts from here, not from arrival, so time the
   * request took never becomes extra token life.
   * @defaultValue receivedAt
   */
  sentAt?: number;
  /** How often to check the token is still the room's, in ms; at least 1 s. */
  checkIn?: number;
  /** The proxy's seal of the token. */
  seal?: string;
  /** @defaultValue 60_000 */
  refreshLeadMs?: number;
}

/**
 * A token with less time left than this on arrival is refused (`invalid-token`, retried a few
 * times): renewing it would mean asking again at once, and a proxy sending such tokens would
 * drive a request loop.
 */
export const MIN_TOKEN_LEFT_MS = 1_000;

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
 * When the token expires on the local clock, given when it was asked for and when it arrived.
 *
 * `expiresIn` (from the proxy) counts from `sentAt`, capped by the token's own lifetime
 * (`exp - iat`): a proxy cannot promise more life than the token has. Otherwise `exp` is read on
 * the local clock, unless that clock is provably wrong: the token was issued in the future, or
 * had expired before it arrived. Then the lifetime `exp - iat` counts from arrival. A token
 * without `exp` never expires on the client (`Infinity`).
 */
export function readExpiry(claims: CasTokenClaims, receivedAt: number, expiresIn?: number, sentAt: number = receivedAt) {
  const exp = readTime(claims, 'exp');
  const iat = readTime(claims, 'iat');
  if (exp !== undefined && iat !== undefined && exp <= iat) {
    throw invalid('The token expires before it was issued (`exp` <= `iat`).');
  }
  const lifetime = exp !== undefined && iat !== undefined ? exp - iat : Number.POSITIVE_INFINITY;
  let expiresAt: number;
  if (expiresIn !== undefined) {
    if (Number.isNaN(expiresIn)) throw invalid('The proxy said the token expires in NaN ms.');
    expiresAt = sentAt + Math.min(expiresIn, lifetime);
  } else if (exp === undefined) {
    expiresAt = Number.POSITIVE_INFINITY;
  } else if (iat !== undefined && (iat > receivedAt || exp <= receivedAt)) {
    expiresAt = receivedAt + lifetime;
  } else {
    // Without `iat` a past `exp` cannot be told from a wrong local clock: it counts as expired.
    expiresAt = exp;
  }
  if (expiresAt - receivedAt < MIN_TOKEN_LEFT_MS) {
    const said = expiresIn === undefined ? '' : ` (expiresIn: ${expiresIn} ms, sent ${receivedAt - sentAt} ms before it arrived)`;
    throw invalid(`The token had expired, or had less than a second left, when it arrived${said}.`);
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
  const sentAt = Math.min(options.sentAt ?? receivedAt, receivedAt);
  const { expiresAt, issuedAt } = readExpiry(claims, receivedAt, options.expiresIn, sentAt);
  const { refreshIn, checkIn, seal } = options;
  if (refreshIn !== undefined && Number.isNaN(refreshIn)) throw invalid('The proxy said the token is replaced in NaN ms.');
  // A rotation after expiry means nothing: the token is renewed before it expires anyway.
  const rotateAt = refreshIn === undefined || receivedAt + refreshIn >= expiresAt ? undefined : receivedAt + Math.max(0, refreshIn);
  const refreshAt = computeRefreshAt(receivedAt, expiresAt, options.refreshLeadMs ?? DEFAULT_REFRESH_LEAD_MS, rotateAt);
  const info: StreamTokenInfo = { token, claims, issuedAt, expiresAt, refreshAt, rotateAt, receivedAt };
  // Checked no more than once a second, whatever a proxy says: never a request loop.
  if (checkIn !== undefined && checkIn >= 0) info.checkIntervalMs = Math.max(MIN_RENEWAL_GAP_MS, checkIn);
  if (seal !== undefined) info.seal = seal;
  return info;
}
