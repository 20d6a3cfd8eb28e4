import { isCasTokenError, type CasTokenErrorCode } from '../core/CasTokenError.js';
import { RETRY_AFTER_MAX_MS } from '../core/retryPolicy.js';
import { bounded, sleep } from './bounded.js';
import { createCasSlots } from './createCasSlots.js';
import { createFailureMemory } from './createFailureMemory.js';
import { busy, ProxyFailure, storeUnavailable, type CasTokenProxyErrorCode } from './ProxyFailure.js';
import { describeError, logSafe } from './redact.js';
import type { CasAnswer } from './fetchCasToken.js';
import { logThrottle } from './logThrottle.js';
import {
  describeSkew,
  encodeEntry,
  encodeLock,
  entryForNewToken,
  readStored,
  CAS_BEHIND_WARN_MS,
  CAS_SKEW_TOLERANCE_MS,
  ROTATION_GRACE_MS,
  storeTtlMs,
  type RoomEntry,
} from './roomEntry.js';
import { createStoreClock } from './storeClock.js';
import { isTokenStoreFullError, type TokenStore } from './TokenStore.js';

/** Where the handler writes what went wrong on the server side. `console` fits. */
export interface CasTokenLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface RoomTokensOptions {
  store: TokenStore;
  /** One CAS call, given at most `timeoutMs`, dropped when `signal` fires. Rejects with a `CasTokenError`. */
  fetchToken(timeoutMs: number, signal: AbortSignal): Promise<CasAnswer>;
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
/** A clock that is off stays off: it is named once in 10 minutes. */
const SKEW_LOG_INTERVAL_MS = 600_000;
/**
 * The shortest lease on a room's lock, for a store that can renew it (`extendIfEqual`): the
 * holder renews it three times per lease while it waits for CAS, so a holder that died frees the
 * room within a lease. Never under three store calls' time, so one slow renewal is not a loss.
 */
const MIN_LOCK_LEASE_MS = 2_000;
/**
 * While CAS is failing (a failure is remembered), a call unanswered after this long (or three
 * times CAS's usual answer time, when that is longer) gets a fresh one beside it, and the oldest
 * of more than two is dropped: a call that hung before CAS recovered must not keep its room
 * waiting out the whole timeoutMs. A fresh call starts only when a slot is free at once; the
 * first answer wins and the others are dropped. CAS answering normally is never asked twice.
 */
const HEDGE_AFTER_MS = 2_000;
/** A participant's sealed token is put back only with at least this long before its rotation. */
const MIN_RESTORE_MS = 1_000;

/** What `entryFor` is told besides the room: the token the client holds, proven by its seal. */
export interface RoomTokens {
  /** The room's token: the stored one, a participant's put back, or a new one from CAS. */
  entryFor(room: string, held?: RoomEntry): Promise<RoomEntry>;
  /** How far the store's clock is ahead of this server's, as last measured. */
  storeOffsetMs(): number;
}

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
 * (`{ token, expiresAt, rotateAt }`) or a lock (`{ lock: <owner>, until }`) while one server
 * fetches the token. Times are on the store's clock (`storeClock`). Per request for a room nobody
 * in this process is already fetching:
 * 1. read the key: an entry still before its rotation is the answer; an entry this server
 *    cannot read, or one past its rotation, is deleted (compare-and-delete) with a log line, and
 *    the room is fetched anew;
 * 2. a room the client proves it holds a token for (its seal, see `seal.ts`), still before its
 *    rotation, gets that token back when the store lost it (a restart without persistence, an
 *    eviction, a failover): in place of nothing, of a lock, or of a token made since (which rotates
 *    later). The room stays one session, and whoever joined during the loss switches to it;
 * 3. otherwise take the lock with `setIfAbsent(key, lock, lease)`. The winner calls CAS (at most
 *    `maxConcurrentCasCalls` at once per process), then swaps the lock for the entry:
 *    `deleteIfEqual(key, lock)` and `setIfAbsent(key, entry, ttl)` sent together, so a bounded
 *    store never needs a second place for the room. If its lock was lost meanwhile (it expired,
 *    another server stored first, a participant's token was put back), it hands out what the
 *    store holds instead: only a stored token is ever handed out;
 * 4. a loser waits for the winner's entry, looking again after 20 ms, 40 ms, ... 250 ms; if the
 *    lock goes with no entry (the winner failed or died), it goes back to 3.
 * Every store call is bounded by `storeTimeoutMs`, the CAS call by `timeoutMs`, and the whole
 * operation by `timeoutMs + 4 × storeTimeoutMs`. The lock's lease is that budget too, unless the
 * store can renew it (`extendIfEqual`): then a few seconds, renewed while the holder waits for
 * CAS, so a server that died mid-call holds the room for one lease only. Concurrent requests in
 * one process share one operation.
 */
export function createRoomTokens(options: RoomTokensOptions): RoomTokens {
  const { store, logger, secrets, casTimeoutMs, storeTimeoutMs } = options;
  const budgetMs = casTimeoutMs + 4 * storeTimeoutMs;
  const leaseMs = store.extendIfEqual ? Math.min(budgetMs, Math.max(MIN_LOCK_LEASE_MS, 3 * storeTimeoutMs)) : budgetMs;
  const flights = new Map<string, Promise<RoomEntry>>();
  const slots = createCasSlots(options.maxConcurrentCasCalls);
  const failures = createFailureMemory();
  const fullLog = logThrottle(FULL_LOG_INTERVAL_MS);
  const outageLog = logThrottle(OUTAGE_LOG_INTERVAL_MS);
  const restoreLog = logThrottle(OUTAGE_LOG_INTERVAL_MS);
  const storeSkewLog = logThrottle(SKEW_LOG_INTERVAL_MS);
  const casSkewLog = logThrottle(SKEW_LOG_INTERVAL_MS);
  const clock = createStoreClock(store, {
    onSkew(offsetMs) {
      if (storeSkewLog.take() === undefined) return;
      logger.warn(
        `[react-cas-token] This server's clock is ${describeSkew(-offsetMs)} the token store's: the handler reads every time on the store's clock, but check this server's clock (NTP).`,
      );
    },
  });

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

  /** The store's time now: this server's clock, moved by the last offset measured. */
  const storeNow = () => Date.now() + clock.current();

  /**
   * What the store holds for the room, with the value as stored (to compare-and-delete it); a
   * stale or unreadable entry is deleted, once.
   */
  async function look(key: string, deadline: number): Promise<{ entry?: RoomEntry; lock?: string; value?: string }> {
    const raw = await storeCall(() => store.get(key), deadline);
    const stored = readStored(raw, storeNow());
    const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
    if (stored.kind === 'entry') return { entry: stored.entry, value };
    if (stored.kind === 'lock') return { lock: stored.value, value };
    if (stored.kind === 'none') return {};
    if (await storeCall(() => store.deleteIfEqual(key, value), deadline)) {
      logger.warn(
        stored.kind === 'stale'
          ? "[react-cas-token] Replaced a room's token or lock that the store still held past its time: does the store ignore ttlMs?"
          : "[react-cas-token] Replaced a room's entry in the token store that this handler cannot read (another program or version wrote it?).",
      );
    }
    return {};
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
      if (seen.lock === undefined) return undefined;
    }
  }

  /** How long CAS usually takes to answer (a moving average of the calls it answered). */
  let usualCasMs: number | undefined;
  const hedgeAfterMs = () => Math.max(HEDGE_AFTER_MS, 3 * (usualCasMs ?? 0));

  /**
   * The room's CAS call; while CAS is failing, a fresh one beside it each time it has hung for
   * hedgeAfterMs, two at most at once.
   */
  async function callCas(deadline: number): Promise<CasAnswer> {
    const hedging = failures.failing();
    // Waiting for a slot leaves the CAS call its full timeoutMs and one store call after it.
    const firstSlot = await slots.acquire(deadline - casTimeoutMs - storeTimeoutMs);
    return new Promise<CasAnswer>((resolve, reject) => {
      const calls: AbortController[] = [];
      let settled = false;
      let hedge: ReturnType<typeof setTimeout> | undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(hedge);
        for (const call of calls) call.abort();
        settle();
      };
      const launch = (release: () => void) => {
        const timeoutMs = Math.min(casTimeoutMs, deadline - Date.now() - storeTimeoutMs);
        if (settled || timeoutMs < 1) {
          release();
          if (calls.length === 0) finish(() => reject(busy('Too many rooms are waiting for the token service; try again in a moment.')));
          return;
        }
        const call = new AbortController();
        calls.push(call);
        // Dropped calls fail with the abort: only the calls still out may settle the room's.
        if (calls.length > 2) calls.shift()!.abort();
        const startedAt = Date.now();
        options
          .fetchToken(timeoutMs, call.signal)
          .then(
            (answer) => {
              const tookMs = Date.now() - startedAt;
              usualCasMs = usualCasMs === undefined ? tookMs : 0.8 * usualCasMs + 0.2 * tookMs;
              finish(() => resolve(answer));
            },
            (error: unknown) => {
              if (!call.signal.aborted) finish(() => reject(error));
            },
          )
          .finally(release);
        if (hedging) hedge = setTimeout(startAnother, hedgeAfterMs());
      };
      // Only with a slot free now: a busy process does not add to its own queue.
      const startAnother = () => {
        if (!settled) slots.acquire(Date.now()).then(launch, () => (hedge = setTimeout(startAnother, hedgeAfterMs())));
      };
      launch(firstSlot);
    });
  }

  /** Turns a failed CAS call into the answer, remembered for a while and logged once. */
  function casFailure(error: unknown): ProxyFailure {
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
    failures.remember(failure, rememberMs);
    const remembered = rememberMs > 0 ? ` Requests get this answer for the next ${Math.ceil(rememberMs / 1000)} s, then one asks CAS again.` : '';
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
      if (seen.lock === undefined) {
        if (await storeCall(() => store.setIfAbsent(key, value, storeTtlMs(entry, storeNow())), deadline)) return entry;
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

  /**
   * Renews the lock's lease every third of it until stopped. A renewal that fails or finds the
   * lock gone changes nothing here: the swap for the entry finds out, and hands out what is stored.
   */
  function keepLock(key: string, lock: string): () => void {
    const extend = store.extendIfEqual?.bind(store);
    if (extend === undefined) return () => {};
    const timer = setInterval(() => {
      bounded(() => extend(key, lock, leaseMs), storeTimeoutMs, () => new Error('timed out')).catch(() => undefined);
    }, leaseMs / 3);
    return () => clearInterval(timer);
  }

  async function fetchAsHolder(key: string, lock: string, deadline: number): Promise<RoomEntry> {
    let entry: RoomEntry;
    const stopKeeping = keepLock(key, lock);
    try {
      const answer = await callCas(deadline);
      failures.forget();
      const made = entryForNewToken(answer, { storeOffsetMs: clock.current(), refreshLeadMs: options.refreshLeadMs });
      entry = made.entry;
      const skew = made.casSkewMs ?? 0;
      if ((skew > CAS_SKEW_TOLERANCE_MS || skew < -CAS_BEHIND_WARN_MS) && casSkewLog.take() !== undefined) {
        logger.warn(
          skew > 0
            ? `[react-cas-token] CAS's clock is ${describeSkew(skew)} this server's (the token's iat is in the future): tokens are handed out until CAS says they expire, not until their exp on this clock. Check CAS's clock and this server's (NTP).`
            : `[react-cas-token] CAS gave a token issued ${describeSkew(skew).replace(' behind', '')} before it arrived: CAS's clock is behind this server's, or it hands out old tokens. Check both clocks (NTP).`,
        );
      }
    } catch (error) {
      releaseLater(key, lock);
      throw casFailure(error);
    } finally {
      stopKeeping();
    }
    // Both calls go out before either is awaited: a synchronous store (memory) swaps the lock
    // for the entry in one go, so no other room can take the place in between.
    const released = storeCall(() => store.deleteIfEqual(key, lock), deadline);
    const stored = storeCall(() => store.setIfAbsent(key, encodeEntry(entry), storeTtlMs(entry, storeNow())), deadline);
    const [, won] = await Promise.all([released, stored]);
    if (won) return entry;
    // The lock ran out and another server took the room, or the store ran the two calls the
    // other way round: hand out what is stored, storing ours only if nothing is.
    return settle(key, entry, deadline);
  }

  /**
   * Puts a participant's token back, in place of nothing, of a lock (a server about to start a
   * second session: it hands out this token instead) or of a newer token (a second session started
   * since the store lost the room: its few holders switch, not the party). Undefined when another
   * server wrote first.
   */
  async function restore(key: string, held: RoomEntry, replaced: string | undefined, deadline: number): Promise<RoomEntry | undefined> {
    if (replaced !== undefined) await storeCall(() => store.deleteIfEqual(key, replaced), deadline);
    if (!(await storeCall(() => store.setIfAbsent(key, encodeEntry(held), storeTtlMs(held, storeNow())), deadline))) return undefined;
    const heldBack = restoreLog.take();
    if (heldBack !== undefined) {
      const since = heldBack > 0 ? ` (and ${heldBack} more rooms since the last line)` : '';
      logger.warn(
        `[react-cas-token] Put a room's token back from a participant's sealed copy${since}: the store had lost it (restarted without persistence, evicted, failed over?).`,
      );
    }
    return held;
  }

  /** Whether a participant's token may be put back now: long enough before its rotation. */
  const restorable = (held: RoomEntry | undefined): held is RoomEntry =>
    held !== undefined && held.rotateAt - ROTATION_GRACE_MS - storeNow() >= MIN_RESTORE_MS;

  /**
   * Whether a participant's token should replace the stored one: a token still this far from its
   * rotation would still be stored, had the store not lost it; the stored one, rotating later, was
   * made since. The older session wins, so two groups of a room never take turns replacing each
   * other's token.
   */
  const supersedes = (held: RoomEntry | undefined, stored: RoomEntry): held is RoomEntry =>
    restorable(held) && held.token !== stored.token && held.rotateAt < stored.rotateAt;

  async function run(room: string, held: RoomEntry | undefined): Promise<RoomEntry> {
    const key = `room:${room}`;
    const deadline = Date.now() + budgetMs;
    try {
      await clock.offset(Math.min(storeTimeoutMs, budgetMs));
    } catch (error) {
      throw storeFailure(error, false);
    }
    for (let turn = 0; turn < MAX_TURNS; turn += 1) {
      const seen = await look(key, deadline);
      if (seen.entry !== undefined && !supersedes(held, seen.entry)) return seen.entry;
      if (restorable(held)) {
        const restored = await restore(key, held, seen.value, deadline);
        held = undefined;
        if (restored !== undefined) return restored;
        continue;
      }
      if (seen.lock === undefined) {
        const failed = failures.recall(budgetMs);
        if (failed !== undefined) {
          const { status, code, message } = failed.failure;
          throw new ProxyFailure(status, code, message, failed.leftMs);
        }
        const lock = encodeLock(globalThis.crypto.randomUUID(), storeNow() + budgetMs);
        let won: boolean;
        try {
          won = await storeCall(() => store.setIfAbsent(key, lock, leaseMs), deadline);
        } catch (error) {
          // A write that timed out may still be applied (a stalled Redis, a client's offline
          // queue), leaving a lock nobody holds. Sent after it on the same connection, the
          // release lands after it.
          releaseLater(key, lock);
          throw error;
        }
        if (won) return await fetchAsHolder(key, lock, deadline);
      }
      const waited = await waitForHolder(key, deadline);
      if (waited !== undefined) return waited;
    }
    throw busy("This room's token changed hands too often; try again in a moment.");
  }

  return {
    entryFor(room, held) {
      let flight = flights.get(room);
      if (flight === undefined) {
        flight = run(room, held).finally(() => flights.delete(room));
        flights.set(room, flight);
      }
      return flight;
    },
    storeOffsetMs: () => clock.current(),
  };
}
