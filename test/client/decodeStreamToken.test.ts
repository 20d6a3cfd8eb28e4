import { describe, expect, it } from 'vitest';
import { CasTokenError, decodeStreamToken } from 'react-cas-token';
import { createTestToken } from 'react-cas-token/testing';

const NOW = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;

describe('decodeStreamToken', () => {
  it('reads the CAS claims and the lifetime on the local clock', () => {
    const token = createTestToken({ issuedAt: NOW, lifetimeMs: HOUR, room: 'movie-night-42' });
    const info = decodeStreamToken(token, NOW);
    expect(info).toMatchObject({ token, issuedAt: NOW, expiresAt: NOW + HOUR, refreshAt: NOW + HOUR - 60_000, receivedAt: NOW });
    expect(info.claims.rid).toBe('movie-night-42');
    expect(info.claims.unct).toBeDefined();
  });

  it('counts expiresIn from arrival, whatever the claims say', () => {
    const token = createTestToken({ issuedAt: NOW - 55 * 60_000, lifetimeMs: HOUR });
    const info = decodeStreamToken(token, NOW + 7 * HOUR, { expiresIn: 5 * 60_000 });
    expect(info.expiresAt).toBe(NOW + 7 * HOUR + 5 * 60_000);
    expect(info.issuedAt).toBe(NOW + 7 * HOUR - 55 * 60_000);
  });

  it('takes a refresh lead, clamped to half the time left', () => {
    const token = createTestToken({ issuedAt: NOW, lifetimeMs: 10_000 });
    expect(decodeStreamToken(token, NOW, { refreshLeadMs: 60_000 }).refreshAt).toBe(NOW + 5_000);
    expect(decodeStreamToken(createTestToken({ issuedAt: NOW, lifetimeMs: HOUR }), NOW, { refreshLeadMs: 0 }).refreshAt).toBe(NOW + HOUR);
  });

  it('keeps a token without exp for good (Infinity), never to be renewed on its own', () => {
    const info = decodeStreamToken(createTestToken({ issuedAt: NOW, lifetimeMs: Number.POSITIVE_INFINITY }), NOW);
    expect(info.expiresAt).toBe(Number.POSITIVE_INFINITY);
    expect(info.refreshAt).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    ['a non-JWT string', 'hello'],
    ['two parts', 'a.b'],
    ['a payload that is not base64 JSON', 'a.!!!.c'],
    ['a payload that is a number', `x.${btoa('42')}.y`],
    ['a string exp', createTestToken({ claims: { exp: '1' } })],
    ['an exp before its iat', createTestToken({ claims: { iat: 2_000, exp: 1_000 } })],
  ])('rejects %s with invalid-token', (_, token) => {
    expect(() => decodeStreamToken(token, NOW)).toThrow(CasTokenError);
    expect(() => decodeStreamToken(token, NOW)).toThrow(expect.objectContaining({ code: 'invalid-token' }));
  });

  it('rejects a token the proxy says has no time left', () => {
    expect(() => decodeStreamToken(createTestToken(), NOW, { expiresIn: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid-token' }),
    );
  });
});
