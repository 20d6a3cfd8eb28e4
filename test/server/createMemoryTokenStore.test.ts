// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryTokenStore } from 'react-cas-token/server';

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

  it('evicts the oldest room when one more than maxEntries is stored', async () => {
    const store = createMemoryTokenStore({ maxEntries: 3 });
    for (const room of ['a', 'b', 'c', 'd']) await store.setIfAbsent(room, `token-${room}`, 60_000);
    expect(await store.get('a')).toBeUndefined();
    expect([await store.get('b'), await store.get('c'), await store.get('d')]).toEqual(['token-b', 'token-c', 'token-d']);
  });

  it('keeps at most 10_000 rooms by default, however many names it is sent', async () => {
    const store = createMemoryTokenStore();
    for (let index = 0; index <= 10_000; index += 1) await store.setIfAbsent(`room-${index}`, 'token', 60_000);
    expect(await store.get('room-0')).toBeUndefined();
    expect(await store.get('room-1')).toBe('token');
    expect(await store.get('room-10000')).toBe('token');
  });

  it('drops expired rooms first when it is full, keeping live ones', async () => {
    vi.useFakeTimers({ now: NOW });
    const store = createMemoryTokenStore({ maxEntries: 2 });
    await store.setIfAbsent('older-long', 'token', 60_000);
    await store.setIfAbsent('newer-short', 'token', 1_000);
    vi.setSystemTime(NOW + 1_000);
    await store.setIfAbsent('new', 'token', 60_000);
    expect([await store.get('older-long'), await store.get('new')]).toEqual(['token', 'token']);
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
