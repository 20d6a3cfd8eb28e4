/**
 * The header a client sends its held token back in, with the proxy's seal of it:
 * `<seal> <token>`. The proxy puts that token back when its store lost the room (see
 * `server/seal.ts`). Shared by both halves, so they never disagree on the name.
 */
export const HELD_TOKEN_HEADER = 'x-cas-token-held';
