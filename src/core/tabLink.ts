import { CasTokenError } from './CasTokenError.js';
import { decodeStreamToken, type StreamTokenInfo } from './decodeStreamToken.js';
import type { FailureState } from './tokenSchedule.js';

/**
 * What the tabs of one origin tell each other about a room's token, over a `BroadcastChannel`
 * only: never `localStorage` or `sessionStorage`, where a token would outlive the page. Times are
 * epoch ms: every tab of a browser reads the same clock.
 */
export type SharedFailure = Omit<FailureState, 'error'> & {
  error: Pick<CasTokenError, 'code' | 'message' | 'status' | 'retryAfterMs' | 'proxyCode'>;
};

/**
 * `hello`: a tab opened, woke up, or is about to ask the proxy: whoever holds a token says so.
 * Otherwise a tab's state: its token (after its own request, or answering `hello`), when the
 * proxy last confirmed that token, and its last failure, if any; none, from a tab that holds
 * nothing.
 */
export type TabMessage =
  | { hello: true }
  | { token?: StreamTokenInfo | undefined; confirmedAt?: number; failure?: SharedFailure | undefined };

/** A tab's state as received: checked, the token decoded again, the error a `CasTokenError` again. */
export type TabState = { token: StreamTokenInfo | undefined; confirmedAt: number | undefined; failure: FailureState | undefined };

/** Names start with the package's prefix, so they never meet another library's channel or lock. */
export function tabLinkName(room: string | undefined): string {
  return `react-cas-token:v1:room:${room ?? ''}`;
}

type Fields = Partial<Record<string, unknown>>;
const isNumber = (value: unknown): value is number => typeof value === 'number';
/** Each of `keys` is a number, or absent when `optional`. */
const numbers = (value: Fields, keys: string[], optional?: boolean) =>
  keys.every((key) => isNumber(value[key]) || (optional && value[key] === undefined));

/**
 * A message from another tab is checked like any outside input. Its token goes through the
 * same decoding as a proxy's answer (from the sibling's arrival time and expiry), so a token
 * that is not a JWT, or had under a second left, is dropped; so is a failure with a field of
 * the wrong type. Undefined for a `hello`.
 */
export function readTabMessage(data: unknown, refreshLeadMs: number): TabState | undefined {
  const message = Object(data) as Fields;
  if (message.hello === true) return undefined;
  const t = Object(message.token) as Fields;
  const f = Object(message.failure) as Fields;
  const e = Object(f.error) as Fields;
  let token: StreamTokenInfo | undefined;
  const { receivedAt } = t;
  // Not a string, or too long to be a token: `length` is undefined, or too large.
  if (isNumber(receivedAt) && (Object(t.token) as string).length < 16_384) {
    try {
      token = decodeStreamToken(t.token as string, receivedAt, {
        refreshLeadMs,
        expiresIn: (t.expiresAt as number) - receivedAt,
        refreshIn: ((t.rotateAt as number | undefined) ?? Infinity) - receivedAt,
        ...(isNumber(t.checkIntervalMs) && { checkIn: t.checkIntervalMs }),
        ...(typeof t.seal === 'string' && t.seal.length <= 256 && { seal: t.seal }),
      });
    } catch {
      // Not a usable token: dropped.
    }
  }
  const failure =
    typeof e.code === 'string' && numbers(f, ['count', 'unusable', 'at']) && numbers(f, ['retryAt'], true) && numbers(e, ['status', 'retryAfterMs'], true)
      ? ({ ...f, error: new CasTokenError(e.code as CasTokenError['code'], e.message as string, e) } as FailureState)
      : undefined;
  const confirmedAt = isNumber(message.confirmedAt) ? message.confirmedAt : undefined;
  return { token, confirmedAt, failure };
}

type Timed = Pick<StreamTokenInfo, 'token' | 'expiresAt' | 'receivedAt'>;

/**
 * Whether a sibling's token should replace the one held: it is unexpired, and the held one is
 * missing, expired, or older (the latest expiry wins, so every tab converges on the newest).
 * The same token counts as newer when the proxy answered it to the sibling later with a later
 * expiry: a renewal the proxy answered with the held token (it had not rotated yet). Taking
 * that sibling's schedule keeps this tab from asking for the same token once more.
 */
export function isNewerToken(theirs: Timed, held: Timed | undefined, now: number): boolean {
  if (theirs.expiresAt <= now) return false;
  if (!held || held.expiresAt <= now) return true;
  if (theirs.token === held.token) return theirs.receivedAt > held.receivedAt && theirs.expiresAt > held.expiresAt;
  return theirs.expiresAt > held.expiresAt || (theirs.expiresAt === held.expiresAt && theirs.receivedAt > held.receivedAt);
}

/**
 * Whether a sibling's failure is this tab's too: only for a tab that needs a token (none held,
 * or one due for renewal or a check), and only when newer than what the tab last learned (its
 * own failure, or the proxy's last word on its token, `confirmedAt`).
 */
export function isRelevantFailure(
  theirs: Pick<FailureState, 'at'>,
  held: Pick<StreamTokenInfo, 'refreshAt' | 'expiresAt'> | undefined,
  confirmedAt: number,
  own: FailureState | undefined,
  now: number,
): boolean {
  if (held && held.expiresAt > now && now < held.refreshAt) return false;
  return theirs.at > Math.max(own?.at ?? -Infinity, held ? confirmedAt : -Infinity);
}
