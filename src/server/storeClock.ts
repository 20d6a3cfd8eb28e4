import { bounded } from './bounded.js';
import type { TokenStore } from './TokenStore.js';

/** How often the store's clock is read again: clocks drift by milliseconds a minute at most. */
const RESYNC_MS = 60_000;
/** A store's clock further than this from this server's is named in a warning. */
export const STORE_SKEW_WARN_MS = 2_000;

/**
 * How far the store's clock is ahead of this server's (`TokenStore.now`, Redis's `TIME`), so that
 * every server sharing the store reads the times it stores on one clock: a server whose own clock
 * is minutes off then neither thinks another's token or lock stale, nor its own still fresh.
 * Measured at first use (that request waits for it, bounded like any store call), then again in
 * the background once a minute. A store without `now` is its servers' own clocks: offset 0.
 */
export function createStoreClock(store: TokenStore, { onSkew }: { onSkew(offsetMs: number): void }) {
  const readNow = store.now?.bind(store);
  let offsetMs = 0;
  let measured = readNow === undefined;
  let measuredAt = Number.NEGATIVE_INFINITY;
  let measuring: Promise<void> | undefined;

  async function measure(timeoutMs: number): Promise<void> {
    const sentAt = Date.now();
    const storeNow = await bounded(readNow!, timeoutMs, () => new Error('timed out reading the store clock'));
    const receivedAt = Date.now();
    if (typeof storeNow !== 'number' || !Number.isFinite(storeNow)) {
      throw new Error(`The store's now() gave ${typeof storeNow === 'number' ? storeNow : typeof storeNow}, not epoch ms.`);
    }
    // The store read its clock somewhere between sending and receiving: the midpoint errs by half the round trip.
    offsetMs = Math.round(storeNow - (sentAt + receivedAt) / 2);
    measured = true;
    measuredAt = receivedAt;
    if (Math.abs(offsetMs) > STORE_SKEW_WARN_MS) onSkew(offsetMs);
  }

  return {
    /**
     * The offset, measuring it first if it never was (rejects when that fails: a request must
     * not write times on the wrong clock), and again in the background when a minute old.
     */
    async offset(timeoutMs: number): Promise<number> {
      if (readNow !== undefined && Date.now() - measuredAt >= RESYNC_MS && measuring === undefined) {
        measuring = measure(timeoutMs).finally(() => (measuring = undefined));
        // A background re-read that fails keeps the last offset; the next request tries again.
        if (measured) measuring.catch(() => (measuredAt = Date.now() - RESYNC_MS + 1_000));
      }
      if (!measured) await measuring;
      return offsetMs;
    },
    /** The last offset measured (0 before the first). */
    current: () => offsetMs,
  };
}
