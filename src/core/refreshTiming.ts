/** How long before expiry the client asks for a new token, unless the token is short-lived. */
export const DEFAULT_REFRESH_LEAD_MS = 60_000;
/**
 * The least time between a token's arrival and the next request for one, when the proxy asks
 * for an early renewal (`refreshIn`): a proxy answering `refreshIn: 0` again and again must not
 * drive a request loop.
 */
export const MIN_RENEWAL_GAP_MS = 1_000;

/**
 * When to ask for the next token: `refreshLeadMs` before expiry, but never before half of the
 * time the token had left on arrival. So a one-hour token is renewed at about 59 minutes, a
 * 10-second token every ~5 s, and a token with no time left can never cause a request loop.
 *
 * `rotateAt`, when the proxy said when it replaces the room's token, brings that forward (so
 * every participant of a room switches together), never sooner than `MIN_RENEWAL_GAP_MS` after
 * arrival and never later than the client's own lead.
 */
export function computeRefreshAt(receivedAt: number, expiresAt: number, refreshLeadMs: number, rotateAt?: number): number {
  const own =
    expiresAt === Number.POSITIVE_INFINITY
      ? expiresAt
      : Math.max(receivedAt + (expiresAt - receivedAt) / 2, expiresAt - Math.max(0, refreshLeadMs));
  if (rotateAt === undefined) return own;
  return Math.min(own, Math.max(rotateAt, receivedAt + MIN_RENEWAL_GAP_MS));
}
