import { describe, expect, it } from 'vitest';
import { CasTokenError } from '../../src/core/CasTokenError';
import { decodeStreamToken } from '../../src/core/decodeStreamToken';
import { isNewerToken, isRelevantFailure, readTabMessage, tabLinkName } from '../../src/core/tabLink';
import { createTestToken } from '../../src/testing/createTestToken';


describe('readTabMessage', () => {
  const lead = 60_000;
  const receivedAt = 1_000_000;
  const jwt = createTestToken({ issuedAt: receivedAt, lifetimeMs: 10 * 60_000 });
  const shared = { token: jwt, receivedAt, expiresAt: receivedAt + 10 * 60_000 };
  const failure = { error: { code: 'network', message: 'offline' }, count: 1, unusable: 0, at: 0, retryAt: 2_000 };

  it('reads a hello as undefined: the caller answers it', () => {
    expect(readTabMessage({ hello: true }, lead)).toBeUndefined();
  });

  it('decodes the token again, keeping the sibling’s arrival, expiry and rotation', () => {
    const { token } = readTabMessage({ token: { ...shared, rotateAt: receivedAt + 60_000, refreshAt: 0, claims: {} } }, lead)!;

    expect(token).toEqual({
      token: jwt,
      claims: expect.objectContaining({ iat: receivedAt / 1000 }),
      issuedAt: receivedAt,
      receivedAt,
      expiresAt: shared.expiresAt,
      rotateAt: receivedAt + 60_000,
      // Worked out again here, not taken from the message.
      refreshAt: receivedAt + 60_000,
    });
    expect(readTabMessage({ token: shared }, lead)!.token).toMatchObject({ rotateAt: undefined, refreshAt: shared.expiresAt - lead });
  });

  it('keeps a token without expiry, renewed at the rotation the proxy set', () => {
    const forever = createTestToken({ issuedAt: receivedAt, lifetimeMs: Infinity });
    const rotateAt = receivedAt + 3_600_000;
    const { token } = readTabMessage({ token: { token: forever, receivedAt, expiresAt: Infinity, rotateAt } }, lead)!;

    expect(token).toMatchObject({ token: forever, expiresAt: Infinity, rotateAt, refreshAt: rotateAt });
  });

  it('turns the failure back into a CasTokenError with its fields', () => {
    const read = readTabMessage({ failure: { ...failure, error: { code: 'http', message: 'bad gateway', status: 502, proxyCode: 'cas-timeout' } } }, lead)!;

    expect(read.token).toBeUndefined();
    expect(read.failure).toMatchObject({ count: 1, unusable: 0, at: 0, retryAt: 2_000 });
    expect(read.failure!.error).toBeInstanceOf(CasTokenError);
    expect(read.failure!.error).toMatchObject({ code: 'http', message: 'bad gateway', status: 502, proxyCode: 'cas-timeout' });
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
    ['an empty object', {}],
  ])('reads %s as a state with neither token nor failure', (_, data) => {
    expect(readTabMessage(data, lead)).toEqual({ token: undefined, failure: undefined });
  });

  it.each([
    ['a token that is not a string', { ...shared, token: 42 }],
    ['a token that is not a JWT', { ...shared, token: 'a.b.c' }],
    ['a token of 20 kB', { ...shared, token: 'x'.repeat(20_000) }],
    ['an arrival time that is not a number', { ...shared, receivedAt: String(receivedAt) }],
    ['an expiry that is not a number', { ...shared, expiresAt: 'later' }],
    ['no expiry', { token: jwt, receivedAt }],
    ['a rotation time that is not a number', { ...shared, rotateAt: 'soon' }],
    ['under a second left when it arrived', { ...shared, expiresAt: receivedAt + 500 }],
  ])('drops %s', (_, token) => {
    expect(readTabMessage({ token }, lead)).toEqual({ token: undefined, failure: undefined });
  });

  it('drops a well-formed token longer than 16 kB, more than any proxy answer may be', () => {
    const padded = createTestToken({ issuedAt: receivedAt, lifetimeMs: 10 * 60_000, claims: { padding: 'x'.repeat(12_500) } });
    expect(padded.length).toBeGreaterThan(16_384);
    // Nothing else is wrong with it: only its length drops it.
    expect(decodeStreamToken(padded, receivedAt).token).toBe(padded);

    expect(readTabMessage({ token: { ...shared, token: padded } }, lead)).toEqual({ token: undefined, failure: undefined });
  });

  it.each([
    ['a count that is not a number', { ...failure, count: '1' }],
    ['no error', { ...failure, error: undefined }],
    ['an error without a code', { ...failure, error: { message: 'x' } }],
    ['a status that is not a number', { ...failure, error: { code: 'http', message: 'x', status: '502' } }],
    ['a retry time that is not a number', { ...failure, retryAt: 'soon' }],
  ])('drops a failure with %s', (_, bad) => {
    expect(readTabMessage({ failure: bad }, lead)).toEqual({ token: undefined, failure: undefined });
  });

  it('names its channel and lock with the package prefix and the room', () => {
    expect(tabLinkName('movie-night-42')).toBe('react-cas-token:v1:room:movie-night-42');
    expect(tabLinkName(undefined)).toBe('react-cas-token:v1:room:');
  });
});

describe('isNewerToken', () => {
  const held = { token: 'a', expiresAt: 10_000, receivedAt: 1_000, rotateAt: undefined, issuedAt: undefined };

  it('takes a sibling token when none is held, or the held one expired', () => {
    expect(isNewerToken({ ...held, token: 'b' }, undefined, 5_000)).toBe(true);
    expect(isNewerToken({ ...held, token: 'b', expiresAt: 20_000 }, held, 10_000)).toBe(true);
  });

  it('takes the token that expires last, so every tab converges on the newest', () => {
    expect(isNewerToken({ ...held, token: 'b', expiresAt: 20_000 }, held, 5_000)).toBe(true);
    expect(isNewerToken({ ...held, token: 'b', expiresAt: 9_000 }, held, 5_000)).toBe(false);
    expect(isNewerToken({ ...held, token: 'b', receivedAt: 2_000 }, held, 5_000)).toBe(true);
  });

  it('keeps the held token over a sibling’s that arrived later but expires earlier: the expiry says which is newer', () => {
    expect(isNewerToken({ ...held, token: 'b', receivedAt: 2_000, expiresAt: 9_000 }, held, 5_000)).toBe(false);
    // The held token itself, answered to the sibling later with less time left (its proxy's
    // clock ahead of this one's): taking its schedule would renew early for nothing.
    expect(isNewerToken({ ...held, receivedAt: 2_000, expiresAt: 9_000 }, held, 5_000)).toBe(false);
  });

  it('never takes an expired token, or the one already held', () => {
    expect(isNewerToken({ ...held, token: 'b' }, undefined, 10_000)).toBe(false);
    expect(isNewerToken({ ...held, receivedAt: 2_000 }, held, 5_000)).toBe(false);
  });

  it('takes the held token from a sibling the proxy answered it to later, with a later expiry (it had not rotated yet)', () => {
    expect(isNewerToken({ ...held, receivedAt: 5_000, expiresAt: 10_050 }, held, 5_100)).toBe(true);
    expect(isNewerToken({ ...held, receivedAt: 500, expiresAt: 10_050 }, held, 5_100)).toBe(false);
  });
});

describe('isRelevantFailure', () => {
  const theirs = { error: { code: 'network' as const, message: 'offline' }, count: 1, unusable: 0, at: 5_000, retryAt: 7_000 };
  const held = { refreshAt: 4_000, expiresAt: 10_000 };
  const confirmedAt = 1_000;

  it('concerns a tab whose token is due, or that holds none', () => {
    expect(isRelevantFailure(theirs, held, confirmedAt, undefined, 5_000)).toBe(true);
    expect(isRelevantFailure(theirs, undefined, confirmedAt, undefined, 5_000)).toBe(true);
  });

  it('does not concern a tab holding a token not yet due', () => {
    expect(isRelevantFailure(theirs, { ...held, refreshAt: 8_000 }, confirmedAt, undefined, 5_000)).toBe(false);
  });

  it('is ignored when older than the tab’s own failure, or than the proxy’s last word on its token', () => {
    const own = { error: new CasTokenError('network', 'x'), count: 2, unusable: 0, at: 6_000, retryAt: 9_000 };
    expect(isRelevantFailure(theirs, held, confirmedAt, own, 6_500)).toBe(false);
    expect(isRelevantFailure(theirs, held, 5_500, undefined, 6_000)).toBe(false);
  });

  it('counts a token confirmed by a check (not only one just received) as the tab’s last word', () => {
    // Received at 1_000, confirmed at 5_500 by a check: a failure at 5_000 is older news.
    expect(isRelevantFailure(theirs, { ...held, refreshAt: 5_000 }, 5_500, undefined, 6_000)).toBe(false);
    expect(isRelevantFailure(theirs, { ...held, refreshAt: 5_000 }, 4_500, undefined, 6_000)).toBe(true);
  });
});
