import { CasTokenError } from '../core/CasTokenError.js';
import { readClaims } from '../core/decodeStreamToken.js';
import { computeRefreshAt } from '../core/refreshTiming.js';
import { MAX_CAS_ANSWER_BYTES } from './fetchCasToken.js';

/** A room's token in the store. Times are epoch ms on the clock of the server that wrote it. */
export interface RoomEntry {
  token: string;
  /** `Infinity` for a token without `exp` (stored as null). */
  expiresAt: number;
  /** When the proxy replaces the room's token; clients are told to renew then (`refreshIn`). */
  rotateAt: number;
}

/**
 * How long before `rotateAt` the store forgets the entry. A client counts `refreshIn` from when
 * it sent its request, so its renewal fires early by about the time the answer took; with the
 * entry already gone it gets the new token, not the old one with a `refreshIn` of a few ms.
 * One second covers a slow answer and clock drift between servers running NTP (milliseconds),
 * and is also the longest that a joiner can hold the next token while others still hold the
 * current one. Short tokens get at most half of the time to rotation.
 */
export const ROTATION_GRACE_MS = 1_000;
/** A token with less time than this left, on this server's clock, cannot be used: refused. */
export const MIN_TOKEN_LIFE_MS = 2_000;
/** How long a token without `exp` is handed out before the proxy replaces it. */
export const NO_EXPIRY_ROTATION_MS = 3_600_000;
/** A stored value longer than a token could be is not read. */
const MAX_STORED_LENGTH = MAX_CAS_ANSWER_BYTES + 256;

function invalidToken(message: string): CasTokenError {
  return new CasTokenError('invalid-token', message);
}

/** When the token expires, read on this server's clock: servers run NTP, so no skew rules. */
function expiryOf(token: string): number {
  const claims = readClaims(token);
  const { exp, iat } = claims;
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
    throw invalidToken("The token's `iat` claim is not a number of seconds.");
  }
  if (exp === undefined) return Number.POSITIVE_INFINITY;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalidToken("The token's `exp` claim is not a number of seconds.");
  if (iat !== undefined && exp <= iat) throw invalidToken('The token expires before it was issued (`exp` <= `iat`).');
  return exp * 1000;
}

/**
 * The entry for a token CAS has just given. Throws `invalid-token` for one that is not a usable
 * JWT, or that has expired or has less than 2 s left on this server's clock: such a token is
 * never handed out nor stored.
 */
export function entryForNewToken(token: string, now: number, refreshLeadMs: number): RoomEntry {
  const expiresAt = expiryOf(token);
  const left = expiresAt - now;
  if (left < MIN_TOKEN_LIFE_MS) {
    const state = left <= 0 ? 'had already expired' : `expires in ${Math.floor(left)} ms`;
    throw invalidToken(
      `CAS gave a token that ${state} on this server's clock (exp ${new Date(expiresAt).toISOString()}); it was not handed out. Check the server's clock (NTP) and CAS's.`,
    );
  }
  const rotateAt = Number.isFinite(expiresAt)
    ? computeRefreshAt(now, expiresAt, refreshLeadMs)
    : now + NO_EXPIRY_ROTATION_MS;
  return { token, expiresAt, rotateAt };
}

/** How long the store keeps the entry: until the grace before its rotation. */
export function storeTtlMs(entry: RoomEntry, now: number): number {
  const left = entry.rotateAt - now;
  return Math.max(1, Math.floor(left - Math.min(ROTATION_GRACE_MS, left / 2)));
}

export function encodeEntry(entry: RoomEntry): string {
  const expiresAt = Number.isFinite(entry.expiresAt) ? entry.expiresAt : null;
  return JSON.stringify({ token: entry.token, expiresAt, rotateAt: entry.rotateAt });
}

/**
 * The value a server writes while it fetches the room's token: its own id, to release it, and
 * when the lock runs out, so that a lock a store kept too long (one ignoring `ttlMs`) is
 * replaced rather than block the room for ever.
 */
export function encodeLock(owner: string, until: number): string {
  return JSON.stringify({ lock: owner, until });
}

/** What the store holds for a room, as this server reads it now. */
export type Stored =
  | { kind: 'none' }
  | { kind: 'lock' }
  | { kind: 'entry'; entry: RoomEntry }
  /** An entry past its rotation, or expired, or a lock past its time, on this server's clock. */
  | { kind: 'stale' }
  | { kind: 'unreadable' };

function parse(raw: unknown): unknown {
  // Some clients (Upstash's, by default) hand back stored JSON already parsed.
  if (typeof raw !== 'string') return raw;
  if (raw.length > MAX_STORED_LENGTH) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * Reads a stored value, checking an entry as a new token is checked: an entry another server
 * wrote is trusted no more than CAS.
 */
export function readStored(raw: unknown, now: number): Stored {
  if (raw === null || raw === undefined) return { kind: 'none' };
  const value = parse(raw);
  if (typeof value !== 'object' || value === null) return { kind: 'unreadable' };
  const { token, expiresAt, rotateAt, lock, until } = value as Record<string, unknown>;
  if (typeof lock === 'string' && token === undefined) {
    return typeof until === 'number' && until <= now ? { kind: 'stale' } : { kind: 'lock' };
  }
  if (typeof token !== 'string' || token.length > MAX_CAS_ANSWER_BYTES) return { kind: 'unreadable' };
  if (typeof rotateAt !== 'number' || !Number.isFinite(rotateAt)) return { kind: 'unreadable' };
  let expiry: number;
  try {
    expiry = expiryOf(token);
  } catch {
    return { kind: 'unreadable' };
  }
  if ((expiresAt === null ? Number.POSITIVE_INFINITY : expiresAt) !== expiry || rotateAt > expiry) return { kind: 'unreadable' };
  if (rotateAt <= now || expiry <= now) return { kind: 'stale' };
  return { kind: 'entry', entry: { token, expiresAt: expiry, rotateAt } };
}
