import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeStreamToken } from 'react-cas-token';
import { createTestToken } from 'react-cas-token/testing';

function decodePart(part: string): unknown {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
}

describe('createTestToken', () => {
  it('makes a three-part base64url JWT with the HS256 header CAS uses', () => {
    const token = createTestToken();
    const parts = token.split('.');

    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePart(parts[0]!)).toEqual({ typ: 'JWT', alg: 'HS256' });
  });

  it('carries rid, unct, iat and exp, which decodeStreamToken reads as a real token', () => {
    const token = createTestToken({ issuedAt: 1_700_000_000_000, lifetimeMs: 10_000, room: 'movie-night-42' });
    const info = decodeStreamToken(token, 1_700_000_000_000);

    expect(info.claims).toMatchObject({ rid: 'movie-night-42', iat: 1_700_000_000, exp: 1_700_000_010 });
    expect(info.claims.unct).toEqual(expect.any(String));
    expect(info.issuedAt).toBe(1_700_000_000_000);
    expect(info.expiresAt).toBe(1_700_000_010_000);
  });

  it('is issued now and lives one hour by default', () => {
    const before = Date.now();
    const info = decodeStreamToken(createTestToken());

    expect(info.issuedAt).toBeGreaterThanOrEqual(before);
    expect(info.expiresAt - info.issuedAt!).toBe(3_600_000);
  });

  it('never mints the same token twice, even in the same millisecond for the same room', () => {
    const tokens = Array.from({ length: 100 }, () => createTestToken({ issuedAt: 0, room: 'same' }));

    expect(new Set(tokens).size).toBe(100);
  });

  it('leaves out exp for an infinite lifetime, so the token never expires on the client', () => {
    const info = decodeStreamToken(createTestToken({ lifetimeMs: Number.POSITIVE_INFINITY }));

    expect(info.claims.exp).toBeUndefined();
    expect(info.expiresAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('adds extra claims and lets them override the defaults', () => {
    const token = createTestToken({ claims: { name: 'Zoë 🎬', rid: 'from-claims' } });

    expect(decodeStreamToken(token).claims).toMatchObject({ name: 'Zoë 🎬', rid: 'from-claims' });
  });

  it('can make a broken token for the invalid-token path', () => {
    const token = createTestToken({ claims: { exp: 'tomorrow' } });

    expect(() => decodeStreamToken(token)).toThrow(expect.objectContaining({ code: 'invalid-token' }));
  });

  it('writes its claims as UTF-8, byte for byte as TextEncoder does', () => {
    const token = createTestToken({ room: 'salle-à-manger', claims: { name: 'Zoë 🎬 ✓', lone: '\ud800' } });
    const payload = token.split('.')[1]!;
    const json = JSON.stringify(decodePart(payload));

    expect(json).toContain('Zoë 🎬 ✓');
    expect(payload).toBe(Buffer.from(new TextEncoder().encode(json)).toString('base64url'));
  });

  describe("in Jest's stock jsdom environment, which has no TextEncoder", () => {
    afterEach(() => vi.unstubAllGlobals());

    it('still makes tokens that decode', () => {
      vi.stubGlobal('TextEncoder', undefined);

      const token = createTestToken({ room: 'salle-à-manger', claims: { name: 'Zoë 🎬' } });

      expect(decodeStreamToken(token).claims).toMatchObject({ rid: 'salle-à-manger', name: 'Zoë 🎬' });
    });
  });

  it('refuses a lifetime that is not positive', () => {
    expect(() => createTestToken({ lifetimeMs: 0 })).toThrow(RangeError);
  });
});
