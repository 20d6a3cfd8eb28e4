import { CasTokenError } from '../core/CasTokenError.js';
import { readClaims, type CasTokenClaims } from '../core/decodeStreamToken.js';
import { computeRefreshAt } from '../core/refreshTiming.js';
import { MAX_CAS_ANSWER_BYTES } from './fetchCasToken.js';

/**
 * A room's token in the store. Times are epoch ms on the store's clock (see `storeClock`): every
 * server reads and writes them on that one clock, whatever its own says.
 */
export interface RoomEntry {
  token: string;
  /** `Infinity` for a token without `exp` (stored as null). */
  expiresAt: number;
  /** When the proxy replaces the room's token; clients are told to renew then (`refreshIn`). */
  rotateAt: number;
}

/**
 * How long before `rotateAt` the store forgets the entry. A client counts `refreshIn` from when
 * its answer arrived, so its renewal fires a few ms after `rotateAt`; with the entry already gone
 * it gets the new token, not the old one with a `refreshIn` of a few ms. One second covers
 * a slow answer and the store clock's sampling error, and is also the longest that a joiner can
 * hold the next token while others still hold the current one. Short tokens get at most half of
 * the time to rotation.
 */
export const ROTATION_GRACE_MS = 1_000;
/** A token with less time than this left, on this server's clock, cannot be used: refused. */
export const MIN_TOKEN_LIFE_MS = 2_000;
/** How long a token without `exp` is handed out before the proxy replaces it. */
export const NO_EXPIRY_ROTATION_MS = 3_600_000;
/**
 * How far ahead of this server's CAS's clock may be before the token's expiry is corrected and a
 * warning names it: `iat` is to the second, and the call takes a while.
 */
export const CAS_SKEW_TOLERANCE_MS = 5_000;
/**
 * How far behind before a warning names it: some issuers date `iat` back a little on purpose,
 * and a token that is older than it should be shortens nothing (its `exp` is read as it is).
 */
export const CAS_BEHIND_WARN_MS = 60_000;
/** A stored entry's expiry further than this from its token's `exp` is not believed. */
const MAX_STORED_CLOCK_GAP_MS = 24 * 3_600_000;
/** A stored value longer than a token could be is not read. */
const MAX_STORED_LENGTH = MAX_CAS_ANSWER_BYTES + 256;

function invalidToken(message: string): CasTokenError {
  return new CasTokenError('invalid-token', message);
}

/** The token's `exp` in ms (`Infinity` without one), its claims checked as a new token's are. */
function expOf(claims: CasTokenClaims): number {
  const { exp, iat } = claims;
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
    throw invalidToken("The token's `iat` claim is not a number of seconds.");
  }
  if (exp === undefined) return Number.POSITIVE_INFINITY;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalidToken("The token's `exp` claim is not a number of seconds.");
  if (iat !== undefined && exp <= iat) throw invalidToken('The token expires before it was issued (`exp` <= `iat`).');
  return exp * 1000;
}

/** A token as CAS answered it, and when (see `requestCasToken`). */
export interface CasAnswerTimes {
  token: string;
  /** CAS's `Date` header, epoch ms. */
  casDate: number | undefined;
  /** When the call started and ended, on this server's clock. */
  sentAt: number;
  receivedAt: number;
}

/**
 * When a token CAS has just given expires on this server's clock, and how far CAS's clock is
 * ahead of it (negative: behind), when the answer tells. CAS's clock is read from the token's
 * `iat` (CAS issues a token as it answers, and `iat` is on the same clock as `exp`), else from
 * CAS's `Date` header. A token is never given more life than `exp` read on this server's clock;
 * when CAS's clock is ahead, less: it expires when CAS says, counted from the call's start.
 */
export function readCasExpiry({ token, casDate, sentAt, receivedAt }: CasAnswerTimes): { expiresAt: number; casSkewMs: number | undefined } {
  const claims = readClaims(token);
  const exp = expOf(claims);
  const iat = claims.iat;
  const casNow = iat !== undefined ? iat * 1000 : casDate;
  const casSkewMs = casNow === undefined ? undefined : Math.round(casNow - (sentAt + receivedAt) / 2);
  if (casSkewMs === undefined || casSkewMs <= CAS_SKEW_TOLERANCE_MS || !Number.isFinite(exp)) return { expiresAt: exp, casSkewMs };
  return { expiresAt: Math.min(exp, sentAt + exp - (casNow as number)), casSkewMs };
}

/**
 * The entry for a token CAS has just given, on the store's clock (`storeOffsetMs` ahead of this
 * server's). The token is read on this server's clock (see `readCasExpiry`), unless CAS's clock
 * (the token's `iat`) agrees with the store's and this server's is the one that is off: then on
 * the store's, so a server whose clock runs minutes ahead neither refuses CAS's tokens as expired
 * nor hands them out for less than their life. Throws `invalid-token` for one that is not a
 * usable JWT, or that has expired or has less than 2 s left: such a token is never handed out
 * nor stored.
 */
export function entryForNewToken(
  answer: CasAnswerTimes,
  { storeOffsetMs, refreshLeadMs }: { storeOffsetMs: number; refreshLeadMs: number },
): { entry: RoomEntry; casSkewMs: number | undefined } {
  const onServerClock = readCasExpiry(answer);
  const skewFromStore = onServerClock.casSkewMs === undefined ? undefined : onServerClock.casSkewMs - storeOffsetMs;
  // How far the clock the token is read on is ahead of this server's: the store's, or its own.
  const shift = skewFromStore !== undefined && Math.abs(skewFromStore) <= CAS_SKEW_TOLERANCE_MS ? storeOffsetMs : 0;
  const { expiresAt: readExpiry, casSkewMs } =
    shift === 0 ? onServerClock : readCasExpiry({ ...answer, sentAt: answer.sentAt + shift, receivedAt: answer.receivedAt + shift });
  const left = readExpiry - (answer.receivedAt + shift);
  if (left < MIN_TOKEN_LIFE_MS) {
    const state = left <= 0 ? 'had already expired' : `expires in ${Math.floor(left)} ms`;
    const clock = shift === 0 ? "this server's" : "the token store's";
    const skew = casSkewMs !== undefined && Math.abs(casSkewMs) > CAS_SKEW_TOLERANCE_MS ? ` CAS's clock is ${describeSkew(casSkewMs)} ${clock}.` : '';
    throw invalidToken(
      `CAS gave a token that ${state} on ${clock} clock (exp ${new Date(readExpiry).toISOString()}); it was not handed out.${skew} Check the server's clock (NTP) and CAS's.`,
    );
  }
  const storeNow = answer.receivedAt + storeOffsetMs;
  const expiresAt = readExpiry - shift + storeOffsetMs;
  const rotateAt = Number.isFinite(expiresAt) ? computeRefreshAt(storeNow, expiresAt, refreshLeadMs) : storeNow + NO_EXPIRY_ROTATION_MS;
  return { entry: { token: answer.token, expiresAt, rotateAt }, casSkewMs };
}

/** "12 s ahead of" or "3 s behind", for a log line. */
export function describeSkew(skewMs: number): string {
  return `${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs > 0 ? 'ahead of' : 'behind'}`;
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

/** What the store holds for a room, as this server reads it at `now` on the store's clock. */
export type Stored =
  | { kind: 'none' }
  | { kind: 'lock'; value: string }
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
    if (typeof until === 'number' && until <= now) return { kind: 'stale' };
    return { kind: 'lock', value: typeof raw === 'string' ? raw : JSON.stringify(raw) };
  }
  if (typeof token !== 'string' || token.length > MAX_CAS_ANSWER_BYTES) return { kind: 'unreadable' };
  if (typeof rotateAt !== 'number' || !Number.isFinite(rotateAt)) return { kind: 'unreadable' };
  let exp: number;
  try {
    exp = expOf(readClaims(token));
  } catch {
    return { kind: 'unreadable' };
  }
  // The expiry was corrected for CAS's clock and put on the store's, but stays near `exp`.
  const expiry = expiresAt === null ? Number.POSITIVE_INFINITY : expiresAt;
  if (typeof expiry !== 'number' || Number.isFinite(expiry) !== Number.isFinite(exp) || rotateAt > expiry) return { kind: 'unreadable' };
  if (Number.isFinite(exp) && !(Math.abs(expiry - exp) <= MAX_STORED_CLOCK_GAP_MS)) return { kind: 'unreadable' };
  if (rotateAt <= now || expiry <= now) return { kind: 'stale' };
  return { kind: 'entry', entry: { token, expiresAt: expiry, rotateAt } };
}
