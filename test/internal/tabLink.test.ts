import { describe, expect, it } from 'vitest';
import { CasTokenError } from '../../src/core/CasTokenError';
import { isNewerToken, isRelevantFailure, readTabMessage, tabLinkName } from '../../src/core/tabLink';


describe('readTabMessage', () => {
  it('keeps well-formed hello and state messages', () => {
    const token = { token: 'a.b.c', expiresAt: 2, receivedAt: 1 };
    const failure = { error: { code: 'network', message: 'offline' }, count: 1, unusable: 0, at: 0 };
    expect(readTabMessage({ hello: true })).toEqual({ hello: true });
    expect(readTabMessage({ token, failure })).toEqual({ token, failure });
    expect(readTabMessage({})).toEqual({ token: undefined, failure: undefined });
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
  ])('drops %s', (_, data) => {
    expect(readTabMessage(data)).toBeUndefined();
  });

  it.each([
    ['a token that is not a string', { token: 42, expiresAt: 2, receivedAt: 1 }],
    ['a token of 20 kB', { token: 'x'.repeat(20_000), expiresAt: 2, receivedAt: 1 }],
    ['an expiry that is not a number', { token: 'a.b.c', expiresAt: '2', receivedAt: 1 }],
    ['a rotation time that is not a number', { token: 'a.b.c', expiresAt: 2, receivedAt: 1, rotateAt: 'soon' }],
  ])('drops %s, keeping the message as an empty answer', (_, token) => {
    expect(readTabMessage({ token })).toEqual({ token: undefined, failure: undefined });
  });

  it.each([
    ['a count that is not a number', { error: { code: 'network', message: 'x' }, count: '1', unusable: 0, at: 0 }],
    ['no error', { count: 1, unusable: 0, at: 0 }],
    ['a status that is not a number', { error: { code: 'http', message: 'x', status: '502' }, count: 1, unusable: 0, at: 0 }],
  ])('drops a failure with %s', (_, failure) => {
    expect(readTabMessage({ failure })).toEqual({ token: undefined, failure: undefined });
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
  const held = { receivedAt: 1_000, refreshAt: 4_000, expiresAt: 10_000 };

  it('concerns a tab whose token is due, or that holds none', () => {
    expect(isRelevantFailure(theirs, held, undefined, 5_000)).toBe(true);
    expect(isRelevantFailure(theirs, undefined, undefined, 5_000)).toBe(true);
  });

  it('does not concern a tab holding a token not yet due', () => {
    expect(isRelevantFailure(theirs, { ...held, refreshAt: 8_000 }, undefined, 5_000)).toBe(false);
  });

  it('is ignored when older than the tab’s own failure or token', () => {
    const own = { error: new CasTokenError('network', 'x'), count: 2, unusable: 0, at: 6_000, retryAt: 9_000 };
    expect(isRelevantFailure(theirs, held, own, 6_500)).toBe(false);
    expect(isRelevantFailure(theirs, { ...held, receivedAt: 5_500 }, undefined, 6_000)).toBe(false);
  });
});
