import { bounded } from './bounded.js';
import type { CasTokenLogger } from './createRoomTokens.js';
import { logSafe } from './redact.js';
import type { TokenStore } from './TokenStore.js';

/** After a check that could not reach the store, the next one waits this long at least. */
export const SETTINGS_RETRY_MS = 60_000;
/** A settings warning says what is wrong, why it matters and the fix: longer than an error's line. */
const MAX_WARNING_LENGTH = 1_000;

export interface StoreSettingsCheckOptions {
  logger: CasTokenLogger;
  /** Each check's bound. */
  timeoutMs: number;
  /** Redacted from every line. */
  secrets: readonly string[];
}

/**
 * Runs the store's `checkSettings` (if it has one) in the background at the first call, and logs
 * what it finds once. Nothing waits for it: a request calls the returned function and goes on.
 * A check that rejects or times out (the store is unreachable) is tried again at a call
 * SETTINGS_RETRY_MS later or more; one that answered is never run again.
 */
export function createStoreSettingsCheck(store: TokenStore, options: StoreSettingsCheckOptions): () => void {
  const { logger, timeoutMs, secrets } = options;
  let state: 'due' | 'running' | 'done' = 'due';
  let notBefore = Number.NEGATIVE_INFINITY;

  function report(lines: unknown): void {
    if (!Array.isArray(lines)) return;
    for (const line of lines) {
      if (typeof line === 'string' && line !== '') logger.warn(`[react-cas-token] ${logSafe(line, secrets, MAX_WARNING_LENGTH)}`);
    }
  }

  return function checkStoreSettings(): void {
    const check = store.checkSettings;
    if (state !== 'due' || Date.now() < notBefore || typeof check !== 'function') return;
    state = 'running';
    bounded(() => check.call(store), timeoutMs, () => new Error('timed out'))
      .then(
        (lines) => {
          state = 'done';
          report(lines);
        },
        () => {
          state = 'due';
          notBefore = Date.now() + SETTINGS_RETRY_MS;
        },
      )
      // A logger that throws must not make an unhandled rejection.
      .catch(() => undefined);
  };
}
