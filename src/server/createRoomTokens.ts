import { isCasTokenError, type CasTokenErrorCode } from '../core/CasTokenError.js';
import { RETRY_AFTER_MAX_MS } from '../core/retryPolicy.js';
import { bounded, sleep } from './bounded.js';
import { createCasSlots } from './createCasSlots.js';
import { createFailureMemory } from './createFailureMemory.js';
import { busy, ProxyFailure, storeUnavailable, type CasTokenProxyErrorCode } from './ProxyFailure.js';
import { describeError, logSafe } from './redact.js';
import { encodeEntry, encodeLock, entryForNewToken, readStored, storeTtlMs, type RoomEntry } from './roomEntry.js';
import { logThrottle } from './logThrottle.js';
import { isTokenStoreFullError, type TokenStore } from './TokenStore.js';

/** Where the handler writes what went wrong on the server side. `console` fits. */
export interface CasTokenLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface RoomTokensOptions {
  store: TokenStore;
  /** One CAS call, given at most `timeoutMs`. Rejects with a `CasTokenError`. */
  fetchToken(timeoutMs: number): Promise<string>;
  refreshLeadMs: number;
  casTimeoutMs: number;
  storeTimeoutMs: number;
  failureCacheMs: number;
  maxConcurrentCasCalls: number;
  logger: CasTokenLogger;
  /** Redacted from every log line. */
  secrets: readonly string[];
}

/** A room's operation goes round at most this many times (the lock changed hands each time). */
const MAX_TURNS = 4;
/** Waiting for another server's token: the first look after 20 ms, then twice as long, up to 250 ms. */
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;
/** A full store is logged at most once a minute: a flood of names would write a line each. */
const FULL_LOG_INTERVAL_MS = 60_000;
/**
 * A store outage is logged at most once per interval, with how many requests it failed since:
 * every request of an outage fails the same way (measured: 530 lines in 1.5 s on 4 instances).
 */
const OUTAGE_LOG_INTERVAL_MS = 10_000;

const CAS_ANSWERS: Record<CasTokenErrorCode, { status: number; code: CasTokenProxyErrorCode; message: string }> = {
  unauthorized: { status: 502, code: 'cas-unauthorized', message: "The token service refused this server's credentials." },
  // fetchCasToken reads CAS's 403 as `unauthorized` too; should one come, it means the same.
  forbidden: { status: 502, code: 'cas-unauthorized', message: "The token service refused this server's credentials." },
  http: { status: 502, code: 'cas-http', message: 'The token service answered with an error.' },
  network: { status: 502, code: 'cas-network', message: 'The token service could not be reached.' },
  timeout: { status: 504, code: 'cas-timeout', message: 'The token service did not answer in time.' },
  'invalid-response': { status: 502, code: 'cas-invalid-response', message: 'The token service gave an answer that is not a token.' },
  'invalid-token': { status: 502, code: 'cas-invalid-token', message: 'The token service gave a token that cannot be used.' },
  'invalid-config': { status: 500, code: 'internal', message: 'The token proxy failed.' },
};

/**
 * Hands out one token per room, across every server sharing `store`, and bounds every wait.
 *
 * A room has one key in the store, `room:<room>`, holding either its entry
 * (`{ token, expiresAt, rotateAt }`) or a lock (`{ lock: <owner> }`) while one server fetches
 * the token. Per request for a room nobody in this process is already fetching:
 * 1. read the key: an entry still before its rotation is the answer; an entry this server
 *    cannot read, or one past its rotation on this server's clock, is deleted (compare-and-delete)
 *    with a log line, and the room is fetched anew;
 * 2. otherwise take the lock with `setIfAbsent(key, lock, budget)`. The winner calls CAS (at most
 *    `maxConcurrentCasCalls` at once per process), then swaps the lock for the entry:
 *    `deleteIfEqual(key, lock)` and `setIfAbsent(key, entry, ttl)` sent together, so a bounded
 *    store never needs a second place for the room. If its lock was lost meanwhile (it expired,
 *    another server stored first), it hands out what the store holds instead: only a stored
 *    token is ever handed out;
 * 3. a loser waits for the winner's entry, looking again after 20 ms, 40 ms, ... 250 ms; if the
 *    lock goes with no entry (the winner failed), it goes back to 2.
 * Every store call is bounded by `storeTimeoutMs`, the CAS call by `timeoutMs`, and the whole
 * operation by `timeoutMs + 4 × storeTimeoutMs` (also the lock's time to live, so the lock of a
 * server that died frees itself). Concurrent requests in one process share one operation.
 */
export function createRoomTokens(options: RoomTokensOptions): (room: string) => Promise<RoomEntry> {
  const { store, logger, secrets, casTimeoutMs, storeTimeoutMs } = options;
  const budgetMs = casTimeoutMs + 4 * storeTimeoutMs;
  const flights = new Map<string, Promise<RoomEntry>>();
  const slots = createCasSlots(options.maxConcurrentCasCalls);
  const failures = createFailureMemory();
  const fullLog = logThrottle(FULL_LOG_INTERVAL_MS);
  const outageLog = logThrottle(OUTAGE_LOG_INTERVAL_MS);

  function storeFailure(error: unknown, timedOut: boolean): ProxyFailure {
    if (isTokenStoreFullError(error)) {
      if (fullLog.take() !== undefined) {
        logger.warn(`[react-cas-token] New rooms are refused (503 too-many-rooms): ${describeError(error, secrets)}`);
      }
      const retryAfterMs = Math.max(1_000, error.retryAfterMs ?? 60_000);
      return new ProxyFailure(503, 'too-many-rooms', 'This server holds tokens for as many rooms as it can; try again later.', retryAfterMs);
    }
    const heldBack = outageLog.take();
    if (heldBack === undefined) return storeUnavailable();
    const since = heldBack > 0 ? ` (${heldBack} more store failures since the last line)` : '';
    logger.error(
      timedOut
        ? `[react-cas-token] The token store did not answer in time (storeTimeoutMs: ${storeTimeoutMs}); answering 503 store-unavailable.${since}`
        : `[react-cas-token] The token store failed; answering 503 store-unavailable${since}. ${describeError(error, secrets)}`,
    );
    return storeUnavailable();
  }

  /** One store call, bounded by storeTimeoutMs and by what is left of the operation. */
  async function storeCall<T>(call: () => T | PromiseLike<T>, deadline: number): Promise<T> {
    let timedOut = false;
    const ms = Math.min(storeTimeoutMs, deadline - Date.now());
    try {
      return await bounded(call, ms, () => {
        timedOut = true;
        return new Error('timed out');
      });
    } catch (error) {
      throw storeFailure(error, timedOut);
    }
  }

  /** What the store holds for the room; a stale or unreadable entry is deleted, once. */
  async function look(key: string, deadline: number): Promise<{ entry?: RoomEntry; locked: boolean }> {
    const raw = await storeCall(() => store.get(key), deadline);
    const stored = readStored(raw, Date.now());
    if (stored.kind === 'entry') return { entry: stored.entry, locked: false };
    if (stored.kind === 'lock') return { locked: true };
    if (stored.kind === 'none') return { locked: false };
    const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
    if (await storeCall(() => store.deleteIfEqual(key, value), deadline)) {
      logger.warn(
        stored.kind === 'stale'
          ? "[react-cas-token] Replaced a room's token or lock that the store still held past its time on this server's clock: are the servers' clocks apart, or does the store ignore ttlMs?"
          : "[react-cas-token] Replaced a room's entry in the token store that this handler cannot read (another program or version wrote it?).",
      );
    }
    return { locked: false };
  }

  /** Waits for the server holding the room's lock to store its token. */
  async function waitForHolder(key: string, deadline: number): Promise<RoomEntry | undefined> {
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      await sleep(Math.min(delay, deadline - Date.now()));
      if (Date.now() >= deadline) {
        throw busy("Another server is fetching this room's token and has not finished; try again in a moment.");
      }
      const seen = await look(key, deadline);
      if (seen.entry !== undefined) return seen.entry;
      if (!seen.locked) return undefined;
    }
  }

  async function callCas(deadline: number): Promise<string> {
    // Waiting for a slot leaves the CAS call its full timeoutMs and one store call after it.
    const release = await slots.acquire(deadline - casTimeoutMs - storeTimeoutMs);
    try {
      const timeoutMs = Math.min(casTimeoutMs, deadline - Date.now() - storeTimeoutMs);
      if (timeoutMs < 1) throw busy('Too many rooms are waiting for the token service; try again in a moment.');
      return await options.fetchToken(timeoutMs);
    } finally {
      release();
    }
  }

  /** Turns a failed CAS call into the room's answer, remembered for a while and logged once. */
  function casFailure(room: string, error: unknown): ProxyFailure {
    if (error instanceof ProxyFailure) return error;
    if (!isCasTokenError(error) || error.code === 'invalid-config') {
      logger.error(`[react-cas-token] The token handler failed: ${describeError(error, secrets)}`);
      return new ProxyFailure(500, 'internal', 'The token proxy failed.');
    }
    const answer = CAS_ANSWERS[error.code];
    // CAS's own Retry-After wins; otherwise a few seconds.
    const rememberMs =
      error.retryAfterMs === undefined ? options.failureCacheMs : Math.min(Math.max(error.retryAfterMs, 1_000), RETRY_AFTER_MAX_MS);
    const failure = new ProxyFailure(answer.status, answer.code, answer.message, Math.max(rememberMs, 1_000));
    failures.remember(room, failure, rememberMs);
    const remembered = rememberMs > 0 ? ` This room's requests get this answer for the next ${Math.ceil(rememberMs / 1000)} s.` : '';
    const hint = error.code === 'unauthorized' ? ' Every token request fails until the key or secret is fixed.' : '';
    const line = `[react-cas-token] ${logSafe(error.message, secrets)}${hint}${remembered}`;
    if (error.code === 'network' || error.code === 'timeout' || error.code === 'http') logger.warn(line);
    else logger.error(line);
    return failure;
  }

  /** Stores `entry` unless another server's is there; resolves to whichever is stored. */
  async function settle(key: string, entry: RoomEntry, deadline: number): Promise<RoomEntry> {
    const value = encodeEntry(entry);
    for (let turn = 0; turn < MAX_TURNS; turn += 1) {
      const seen = await look(key, deadline);
      if (seen.entry !== undefined) return seen.entry;
      if (!seen.locked) {
        if (await storeCall(() => store.setIfAbsent(key, value, storeTtlMs(entry, Date.now())), deadline)) return entry;
        continue;
      }
      const waited = await waitForHolder(key, deadline);
      if (waited !== undefined) return waited;
    }
    throw busy("This room's token could not be settled between servers in time; try again in a moment.");
  }

  /** Lets go of a lock this request gives up on. Nobody waits on it: at worst the lock runs out by itself. */
  function releaseLater(key: string, lock: string): void {
    void Promise.resolve()
      .then(() => store.deleteIfEqual(key, lock))
      .catch(() => undefined);
  }

  async function fetchAsHolder(room: string, key: string, lock: string, deadline: number): Promise<RoomEntry> {
    let entry: RoomEntry;
    try {
      entry = entryForNewToken(await callCas(deadline), Date.now(), options.refreshLeadMs);
    } catch (error) {
      releaseLater(key, lock);
      throw casFailure(room, error);
    }
    // Both calls go out before either is awaited: a synchronous store (memory) swaps the lock
    // for the entry in one go, so no other room can take the place in between.
    const released = storeCall(() => store.deleteIfEqual(key, lock), deadline);
    const stored = storeCall(() => store.setIfAbsent(key, encodeEntry(entry), storeTtlMs(entry, Date.now())), deadline);
    const [, won] = await Promise.all([released, stored]);
    if (won) return entry;
    // The lock ran out and another server took the room, or the store ran the two calls the
    // other way round: hand out what is stored, storing ours only if nothing is.
    return settle(key, entry, deadline);
  }

  async function run(room: string): Promise<RoomEntry> {
    const key = `room:${room}`;
    const deadline = Date.now() + budgetMs;
    for (let turn = 0; turn < MAX_TURNS; turn += 1) {
      const seen = await look(key, deadline);
      if (seen.entry !== undefined) return seen.entry;
      if (!seen.locked) {
        const failed = failures.recall(room);
        if (failed !== undefined) {
          const { status, code, message } = failed.failure;
          throw new ProxyFailure(status, code, message, failed.leftMs);
        }
        const lock = encodeLock(globalThis.crypto.randomUUID(), Date.now() + budgetMs);
        let won: boolean;
        try {
          won = await storeCall(() => store.setIfAbsent(key, lock, budgetMs), deadline);
        } catch (error) {
          // A write that timed out may still be applied (a stalled Redis, a client's offline
          // queue), leaving a lock nobody holds. Sent after it on the same connection, the
          // release lands after it.
          releaseLater(key, lock);
          throw error;
        }
        if (won) return await fetchAsHolder(room, key, lock, deadline);
      }
      const waited = await waitForHolder(key, deadline);
      if (waited !== undefined) return waited;
    }
    throw busy("This room's token changed hands too often; try again in a moment.");
  }

  return function entryFor(room: string): Promise<RoomEntry> {
    let flight = flights.get(room);
    if (flight === undefined) {
      flight = run(room).finally(() => flights.delete(room));
      flights.set(room, flight);
    }
    return flight;
  };
}
