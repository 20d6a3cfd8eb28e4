import type { CasTokenError } from './CasTokenError.js';
import type { StreamTokenInfo } from './decodeStreamToken.js';
import type { FailureState } from './tokenSchedule.js';

/**
 * What the tabs of one origin tell each other about a room's token, over a `BroadcastChannel`
 * only: never `localStorage` or `sessionStorage`, where a token would outlive the page. Times are
 * epoch ms: every tab of a browser reads the same clock.
 */
export type SharedToken = Omit<StreamTokenInfo, 'claims' | 'refreshAt'>;
export type SharedFailure = Omit<FailureState, 'error'> & {
  error: Pick<CasTokenError, 'code' | 'message' | 'status' | 'retryAfterMs' | 'proxyCode'>;
};

/**
 * `hello`: a tab opened, woke up, or is about to ask the proxy: whoever holds a token says so.
 * Otherwise a tab's state: its token (after its own request, or answering `hello`) and its last
 * failure, if any; neither, from a tab that holds nothing.
 */
export type TabMessage = { hello: true } | { token?: SharedToken | undefined; failure?: SharedFailure | undefined };

/** Names start with the package's prefix, so they never meet another library's channel or lock. */
export function tabLinkName(room: string | undefined): string {
  return `react-cas-token:v1:room:${room ?? ''}`;
}

type Fields = Record<string, unknown>;
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null;
const isNumber = (value: unknown) => typeof value === 'number';
/** Each of `keys` is a number, or absent when `optional`. */
const numbers = (value: Fields, keys: string[], optional?: boolean) =>
  keys.every((key) => isNumber(value[key]) || (optional && value[key] === undefined));

/**
 * A message from another tab is checked like any outside input: malformed parts are dropped
 * (the token itself is decoded again before use).
 */
export function readTabMessage(data: unknown): TabMessage | undefined {
  if (!isObject(data)) return undefined;
  if (data.hello === true) return data as TabMessage;
  const { token: t, failure: f } = data;
  const token =
    isObject(t) && typeof t.token === 'string' && t.token.length < 16_384 && numbers(t, ['expiresAt', 'receivedAt']) && numbers(t, ['rotateAt', 'issuedAt'], true);
  const failure =
    isObject(f) &&
    isObject(f.error) &&
    typeof f.error.code === 'string' &&
    numbers(f, ['count', 'unusable', 'at']) &&
    numbers(f, ['retryAt'], true) &&
    numbers(f.error, ['status', 'retryAfterMs'], true);
  return { token: token ? (t as SharedToken) : undefined, failure: failure ? (f as SharedFailure) : undefined };
}

/**
 * Whether a sibling's token should replace the one held: it is unexpired, and the held one is
 * missing, expired, or older (the latest expiry wins, so every tab converges on the newest).
 * The same token counts as newer when the proxy answered it to the sibling later with a later
 * expiry: a renewal the proxy answered with the held token (it had not rotated yet). Taking
 * that sibling's schedule keeps this tab from asking for the same token once more.
 */
export function isNewerToken(theirs: SharedToken, held: SharedToken | undefined, now: number): boolean {
  if (theirs.expiresAt <= now) return false;
  if (!held || held.expiresAt <= now) return true;
  if (theirs.token === held.token) return theirs.receivedAt > held.receivedAt && theirs.expiresAt > held.expiresAt;
  return theirs.expiresAt > held.expiresAt || (theirs.expiresAt === held.expiresAt && theirs.receivedAt > held.receivedAt);
}

/**
 * Whether a sibling's failure is this tab's too: only for a tab that needs a token (none held,
 * or one due for renewal), and only when newer than what the tab last learned.
 */
export function isRelevantFailure(
  theirs: SharedFailure,
  held: Pick<StreamTokenInfo, 'receivedAt' | 'refreshAt' | 'expiresAt'> | undefined,
  own: FailureState | undefined,
  now: number,
): boolean {
  if (held && held.expiresAt > now && now < held.refreshAt) return false;
  return theirs.at > Math.max(own?.at ?? -Infinity, held?.receivedAt ?? -Infinity);
}
