/** How long before expiry the client asks for a new token, unless the token is short-lived. */
export const DEFAULT_REFRESH_LEAD_MS = 60_000;

/**
 * When to ask for the next token: `refreshLeadMs` before expiry, but never before half of the
 * time the token had left on arrival. So a one-hour token is renewed at about 59 minutes, a
 * 10-second token every ~5 s, and a token with no time left can never cause a request loop.
 */
export function computeRefreshAt(receivedAt: number, expiresAt: number, refreshLeadMs: number): number {
  if (expiresAt === Number.POSITIVE_INFINITY) return expiresAt;
  const halfLife = receivedAt + (expiresAt - receivedAt) / 2;
  return Math.max(halfLife, expiresAt - Math.max(0, refreshLeadMs));
}
