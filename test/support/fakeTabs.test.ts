import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installFakeTabs, MAX_GRANTS_PER_SECOND, MAX_MESSAGES_PER_SECOND } from './fakeTabs';

let tabs: ReturnType<typeof installFakeTabs>;
beforeEach(() => {
  vi.useFakeTimers();
  tabs = installFakeTabs();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the fake tabs end a loop between tabs with an error', () => {
  it('refuses locks to two tabs stealing one from each other for ever, and says so on uninstall', async () => {
    const refused: unknown[] = [];
    const stealBack = () => {
      navigator.locks.request('room', { steal: true }, () => new Promise(() => {})).catch((error: unknown) => {
        refused.push(error);
        if (!tabs.locks.runaway) stealBack();
      });
    };
    stealBack();
    stealBack();
    await vi.advanceTimersByTimeAsync(1_000);

    expect(tabs.locks.grants.length).toBe(MAX_GRANTS_PER_SECOND);
    expect(refused).toContain(tabs.locks.runaway);
    expect(() => tabs.uninstall()).toThrow(new RegExp(`granted locks more than ${MAX_GRANTS_PER_SECOND} times within a second .*in a loop`));
  });

  it('refuses messages to two tabs answering each other for ever, and says so on uninstall', async () => {
    const [a, b] = [new BroadcastChannel('room'), new BroadcastChannel('room')];
    const thrown: unknown[] = [];
    const answer = (channel: BroadcastChannel) => () => {
      try {
        channel.postMessage('again');
      } catch (error) {
        thrown.push(error);
      }
    };
    a.onmessage = answer(a);
    b.onmessage = answer(b);
    a.postMessage('hello');
    await vi.advanceTimersByTimeAsync(1_000);

    expect(thrown).toHaveLength(1);
    expect(() => tabs.uninstall()).toThrow(new RegExp(`more than ${MAX_MESSAGES_PER_SECOND} messages within a second .*in a loop`));
  });

  it('lets a test that ran no loop uninstall quietly', () => {
    expect(() => tabs.uninstall()).not.toThrow();
  });
});
