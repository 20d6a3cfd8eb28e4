import type { RoomEntry } from './roomEntry.js';

export { HELD_TOKEN_HEADER } from '../core/heldToken.js';

/**
 * A seal proves that this proxy (or another one with the same CAS secret) handed out a token for
 * a room, with the times it gave it. Clients send it back with the token they hold
 * (`x-cas-token-held`), so a proxy whose store lost the room (a restart without persistence, an
 * eviction, a failover) puts that same token back instead of starting a second session. It is an
 * HMAC-SHA-256 over the room, the token and its times, keyed by a key derived from the API secret:
 * every instance can check every other's, nobody without the secret can make one, and the secret
 * cannot be read back from it.
 */
const VERSION = 'v1';
/** A header longer than a sealed token can be is not read. */
const MAX_HELD_LENGTH = 8_192;

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[\w-]{43}$/.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** A whole number of ms, as written in a seal, or undefined. */
function readTime(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function createSealer(secret: string) {
  let key: Promise<CryptoKey> | undefined;
  const { subtle } = globalThis.crypto;

  /** A key of its own, so a seal is never an HMAC made with the API secret itself. */
  function keyOf(): Promise<CryptoKey> {
    key ??= (async () => {
      const hmac = { name: 'HMAC', hash: 'SHA-256' };
      const base = await subtle.importKey('raw', encoder.encode(secret), hmac, false, ['sign']);
      const derived = await subtle.sign('HMAC', base, encoder.encode('react-cas-token: room token seal'));
      return subtle.importKey('raw', derived, hmac, false, ['sign', 'verify']);
    })();
    return key;
  }

  const signed = (room: string, token: string, expires: string, rotate: string) =>
    encoder.encode(JSON.stringify([VERSION, room, token, expires, rotate]));

  return {
    /**
     * The seal of `entry` for `room`: `v1.<expiresAt or ->.<rotateAt>.<mac>`, in whole ms: a
     * rotation at half a token's life can fall between two, and its `.5` would be read as a field.
     */
    async seal(room: string, entry: RoomEntry): Promise<string> {
      const expires = Number.isFinite(entry.expiresAt) ? String(Math.floor(entry.expiresAt)) : '-';
      const rotate = String(Math.floor(entry.rotateAt));
      const mac = await subtle.sign('HMAC', await keyOf(), signed(room, entry.token, expires, rotate));
      return `${VERSION}.${expires}.${rotate}.${base64url(mac)}`;
    },

    /**
     * The entry a client's `x-cas-token-held` header proves it was given for `room`, or undefined
     * for a missing, malformed or forged one (or one sealed with another secret).
     */
    async open(room: string, header: string | null): Promise<RoomEntry | undefined> {
      if (header === null || header.length > MAX_HELD_LENGTH) return undefined;
      const [seal, token, ...rest] = header.trim().split(' ');
      if (seal === undefined || token === undefined || token === '' || rest.length > 0) return undefined;
      const [version, expires, rotate, mac, ...extra] = seal.split('.');
      const rotateAt = readTime(rotate);
      const expiresAt = expires === '-' ? Number.POSITIVE_INFINITY : readTime(expires);
      const signature = fromBase64url(mac ?? '');
      if (version !== VERSION || extra.length > 0 || rotateAt === undefined || expiresAt === undefined || signature === undefined) return undefined;
      const valid = await subtle.verify('HMAC', await keyOf(), signature, signed(room, token, expires as string, rotate as string));
      return valid ? { token, expiresAt, rotateAt } : undefined;
    },
  };
}
