import type { CasTokenClaims } from '../core/decodeStreamToken.js';

export interface TestTokenOptions {
  /**
   * How long the token lives, in ms. `Infinity` makes a token without an `exp` claim.
   * @defaultValue 3_600_000 (one hour, like CAS)
   */
  lifetimeMs?: number;
  /**
   * When the token was issued, epoch ms. Under fake timers the default follows the fake clock.
   * @defaultValue Date.now()
   */
  issuedAt?: number;
  /**
   * The room (CAS session) the token is for, written to the `rid` claim.
   * @defaultValue a new id, so every token stands for its own session
   */
  room?: string;
  /** More claims, or overrides of the default ones (`rid`, `unct`, `iat`, `exp`). */
  claims?: Record<string, unknown>;
}

const HEADER = { typ: 'JWT', alg: 'HS256' };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

let minted = 0;

function base64url(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    out += BASE64URL[a >> 2]! + BASE64URL[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    if (b !== undefined) out += BASE64URL[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    if (c !== undefined) out += BASE64URL[c & 63]!;
  }
  return out;
}

/**
 * UTF-8 without `TextEncoder`, which Jest's stock jsdom environment (jest-environment-jsdom) does
 * not have: encodeURIComponent writes each byte of a non-ASCII character as `%XX`. It throws on a
 * lone surrogate, which JSON never holds.
 */
function utf8(text: string): number[] {
  return [...encodeURIComponent(text).matchAll(/%(..)|./gs)].map(([char, hex]) => (hex ? parseInt(hex, 16) : char.charCodeAt(0)));
}

function encodeJson(value: unknown): string {
  return base64url(utf8(JSON.stringify(value)));
}

/** 32 bytes derived from the signed part (FNV-1a), so different tokens carry different signatures. */
function fakeSignature(signingInput: string): string {
  const bytes = new Uint8Array(32);
  let hash = 0x811c9dc5;
  for (let i = 0; i < signingInput.length; i++) {
    hash = Math.imul(hash ^ signingInput.charCodeAt(i), 0x01000193) >>> 0;
  }
  for (let i = 0; i < bytes.length; i++) {
    hash = Math.imul(hash ^ i, 0x01000193) >>> 0;
    bytes[i] = hash & 0xff;
  }
  return base64url(bytes);
}

function uniqueId(prefix: string): string {
  minted += 1;
  return `${prefix}-${minted.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Makes a CAS-shaped streaming token for tests and stories: a JWT with the header
 * `{"typ":"JWT","alg":"HS256"}` and the claims `rid` (the room), `unct` (unique per token),
 * `iat` and `exp`, which `decodeStreamToken` reads like a real one.
 *
 * `iat` and `exp` are exact (`issuedAt / 1000`), so under a fake clock on whole seconds they are
 * whole numbers and a test can predict `expiresAt` to the millisecond. The signature is
 * well-formed but not a real HMAC: the client never verifies tokens, and nothing that does
 * should accept a test token.
 *
 * @example
 * ```ts
 * const token = createTestToken({ lifetimeMs: 10_000, room: 'movie-night-42' });
 * decodeStreamToken(token).claims.rid; // 'movie-night-42'
 * ```
 */
export function createTestToken(options: TestTokenOptions = {}): string {
  const lifetimeMs = options.lifetimeMs ?? 3_600_000;
  const issuedAt = options.issuedAt ?? Date.now();
  if (!(lifetimeMs > 0)) throw new RangeError(`createTestToken: lifetimeMs must be a positive number of ms, not ${lifetimeMs}.`);
  const claims: CasTokenClaims = {
    rid: options.room ?? uniqueId('room'),
    unct: uniqueId('unct'),
    iat: issuedAt / 1000,
    ...(lifetimeMs === Number.POSITIVE_INFINITY ? {} : { exp: (issuedAt + lifetimeMs) / 1000 }),
    ...options.claims,
  };
  const signingInput = `${encodeJson(HEADER)}.${encodeJson(claims)}`;
  return `${signingInput}.${fakeSignature(signingInput)}`;
}
