// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryTokenStore, DEFAULT_MAX_ROOMS, isTokenStoreFullError, KEEP_PLACE_MS, TokenStoreFullError } from 'react-cas-token/server';

const NOW = Date.UTC(2030, 0, 1);

afterEach(() => {
  vi.useRealTimers();
});

describe('createMemoryTokenStore', () => {
  it('stores a value only when the key holds none, and keeps the first', async () => {
    const store = createMemoryTokenStore();
    expect(await store.setIfAbsent('room-1', 'first', 1_000)).toBe(true);
    expect(await store.setIfAbsent('room-1', 'second', 1_000)).toBe(false);
    expect(await store.get('room-1')).toBe('first');
    expect(await store.get('room-2')).toBeUndefined();
  });

  it('deletes a key only while it still holds the value the caller read', async () => {
    const store = createMemoryTokenStore();
    await store.setIfAbsent('room-1', 'first', 1_000);

    expect(await store.deleteIfEqual('room-1', 'other')).toBe(false);
    expect(await store.get('room-1')).toBe('first');
    expect(await store.deleteIfEqual('room-1', 'first')).toBe(true);
    expect(await store.get('room-1')).toBeUndefined();
    expect(await store.deleteIfEqual('room-1', 'first')).toBe(false);
  });

  it('forgets a value when its time to live is over, so the key can be set again', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore();
    await store.setIfAbsent('room-1', 'first', 1_000);
    vi.setSystemTime(NOW + 999);
    expect(await store.get('room-1')).toBe('first');
    vi.setSystemTime(NOW + 1_000);
    expect(await store.get('room-1')).toBeUndefined();
    expect(await store.setIfAbsent('room-1', 'second', 1_000)).toBe(true);
  });

  it('refuses a new key when every place holds a live value, and keeps every one of them', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 3 });
    for (const room of ['a', 'b', 'c']) await store.setIfAbsent(room, `token-${room}`, 60_000);
    vi.setSystemTime(NOW + 10_000);

    let refused: unknown;
    try {
      await store.setIfAbsent('d', 'token-d', 60_000);
    } catch (error) {
      refused = error;
    }
    expect(isTokenStoreFullError(refused)).toBe(true);
    expect(refused).toBeInstanceOf(TokenStoreFullError);
    expect(refused).toMatchObject({
      message: expect.stringContaining('maxEntries: 3'),
      // The first place frees 30 s after the first value expires.
      retryAfterMs: 60_000 + KEEP_PLACE_MS - 10_000,
    });
    expect([await store.get('a'), await store.get('b'), await store.get('c'), await store.get('d')]).toEqual([
      'token-a',
      'token-b',
      'token-c',
      undefined,
    ]);
  });

  it('keeps a live room through a flood of 20,000 new names', async () => {
    const store = createMemoryTokenStore({ maxEntries: 100 });
    await store.setIfAbsent('busy-room', 'busy-token', 3_600_000);
    let refused = 0;
    for (let index = 0; index < 20_000; index += 1) {
      try {
        await store.setIfAbsent(`made-up-${index}`, 'token', 3_600_000);
      } catch (error) {
        if (!isTokenStoreFullError(error)) throw error;
        refused += 1;
      }
    }
    expect(refused).toBe(20_000 - 99);
    expect(await store.get('busy-room')).toBe('busy-token');
  });

  it('keeps an expired key\'s place for 30 s: the same key takes it back, another key does not', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 1 });
    await store.setIfAbsent('room-1', 'first', 1_000);
    vi.setSystemTime(NOW + 1_000 + KEEP_PLACE_MS - 1);
    expect(await store.get('room-1')).toBeUndefined();
    expect(() => store.setIfAbsent('room-2', 'other', 1_000)).toThrow(TokenStoreFullError);
    expect(await store.setIfAbsent('room-1', 'second', 1_000)).toBe(true);
    expect(await store.get('room-1')).toBe('second');
  });

  it('counts a get of an expired key as use: the key keeps its place 30 s from that get', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 1 });
    await store.setIfAbsent('room-1', 'first', 1_000);
    vi.setSystemTime(NOW + 20_000);
    expect(await store.get('room-1')).toBeUndefined();
    vi.setSystemTime(NOW + 20_000 + KEEP_PLACE_MS - 1);
    expect(() => store.setIfAbsent('room-2', 'other', 1_000)).toThrow(TokenStoreFullError);
    vi.setSystemTime(NOW + 20_000 + KEEP_PLACE_MS);
    expect(await store.setIfAbsent('room-2', 'other', 1_000)).toBe(true);
  });

  it('keeps a deleted key\'s place for 30 s, so a value can be swapped for another without losing it', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 1 });
    await store.setIfAbsent('room-1', 'lock', 60_000);
    expect(await store.deleteIfEqual('room-1', 'lock')).toBe(true);
    expect(() => store.setIfAbsent('room-2', 'other', 1_000)).toThrow(TokenStoreFullError);
    expect(await store.setIfAbsent('room-1', 'token', 60_000)).toBe(true);

    await store.deleteIfEqual('room-1', 'token');
    vi.setSystemTime(NOW + KEEP_PLACE_MS);
    expect(await store.setIfAbsent('room-2', 'other', 1_000)).toBe(true);
  });

  it('gives a freed place to a new key once its 30 s are over', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 2 });
    await store.setIfAbsent('older-long', 'token', 60_000);
    await store.setIfAbsent('newer-short', 'token', 1_000);
    vi.setSystemTime(NOW + 1_000 + KEEP_PLACE_MS);
    expect(await store.setIfAbsent('new', 'token', 60_000)).toBe(true);
    expect([await store.get('older-long'), await store.get('newer-short'), await store.get('new')]).toEqual(['token', undefined, 'token']);
  });

  it('keeps at most 10_000 rooms by default, however many names it is sent', async () => {
    const store = createMemoryTokenStore();
    expect(DEFAULT_MAX_ROOMS).toBe(10_000);
    for (let index = 0; index < 10_000; index += 1) await store.setIfAbsent(`room-${index}`, 'token', 60_000);
    expect(() => store.setIfAbsent('room-10000', 'token', 60_000)).toThrow(TokenStoreFullError);
    expect(await store.get('room-0')).toBe('token');
    expect(await store.get('room-9999')).toBe('token');
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('throws a RangeError for a ttlMs of %d rather than keep a value for ever', (ttlMs) => {
    const store = createMemoryTokenStore();
    expect(() => store.setIfAbsent('room-1', 'token', ttlMs)).toThrow(RangeError);
    expect(store.get('room-1')).toBeUndefined();
  });

  it('starts no timer, so it never keeps a process alive', async () => {
    vi.useFakeTimers();
    const store = createMemoryTokenStore();
    await store.setIfAbsent('room-1', 'token', 60_000);
    await store.get('room-1');
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([0, 1.5, Number.NaN])('throws invalid-config for maxEntries %d', (maxEntries) => {
    expect(() => createMemoryTokenStore({ maxEntries })).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });
});
