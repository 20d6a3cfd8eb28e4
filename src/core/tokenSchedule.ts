import type { CasTokenError } from './CasTokenError.js';
import { retryClass, retryDelayFor, UNUSABLE_ANSWER_ATTEMPTS, type RetryDelay } from './retryPolicy.js';
import type { StreamTokenInfo } from './decodeStreamToken.js';

/**
 * The decisions of a room's token schedule, as pure functions of state and time: when to ask
 * for a token, when to wake the consumers, how a failure or a wake-up changes what comes next.
 * The scheduler shell owns the timers and listeners and only acts on these answers.
 */

/** A wake-up (focus, online, resume) retries a failure at once, but not twice within this. */
export const WAKE_RETRY_GAP_MS = 1_000;

/** The failures since the last token, and what follows from them. */
export interface FailureState {
  /** The last request's error. */
  error: CasTokenError;
  /** Failed requests in a row since the last success. */
  count: number;
  /** Of those, the unusable answers in a row (bad token, not JSON): retried a few times only. */
  unusable: number;
  /** When the last one failed. */
  at: number;
  /** When to try again; undefined when the error stands until a wake-up or `refresh()`. */
  retryAt: number | undefined;
}

export interface RetryOptions {
  retryDelay?: RetryDelay | undefined;
  random?: () => number;
  /** The token held when the request failed, expired or not. */
  held?: Pick<StreamTokenInfo, 'expiresAt' | 'checkIntervalMs'> | undefined;
}

/**
 * The state after a failed request at `now`. While a valid token is held the retry may wait
 * longer (up to 30 s, or the next check), but never past the token's expiry: from then on the
 * page shows no token, and retries come every few seconds.
 */
export function recordFailure(
  previous: FailureState | undefined,
  error: CasTokenError,
  now: number,
  { retryDelay, random = Math.random, held }: RetryOptions = {},
): FailureState {
  const count = (previous?.count ?? 0) + 1;
  const kind = retryClass(error);
  const unusable = kind === 'bounded' ? (previous?.unusable ?? 0) + 1 : 0;
  const retries = kind === 'always' || (kind === 'bounded' && unusable < UNUSABLE_ANSWER_ATTEMPTS);
  const holding = held !== undefined && held.expiresAt > now;
  const delay = retryDelayFor(count, error, retryDelay, random, { holding, checkIntervalMs: held?.checkIntervalMs });
  const retryAt = holding ? Math.min(now + delay, Math.max(held.expiresAt, now + WAKE_RETRY_GAP_MS)) : now + delay;
  return { error, count, unusable, at: now, retryAt: retries ? retryAt : undefined };
}

/**
 * The state after the page wakes up (focus, back online, shown, resumed): whatever failed is
 * tried again now, or a second after the last failure, even an error that stood (the user may
 * have signed in elsewhere, the proxy may be fixed). A wrong setting stays wrong.
 */
export function recordWake(failure: FailureState | undefined, now: number): FailureState | undefined {
  if (failure === undefined || failure.error.code === 'invalid-config') return failure;
  const soonest = Math.max(now, failure.at + WAKE_RETRY_GAP_MS);
  if (failure.retryAt !== undefined && failure.retryAt <= soonest) return failure;
  return { ...failure, retryAt: soonest };
}

/**
 * Where this tab stands with the room's cross-tab lock (see `tabLink`): only the holder asks the
 * proxy; the others adopt what it publishes. A tab granted the lock asks its siblings for a newer
 * token before it counts as holding it.
 */
export interface TabsInput {
  lock: 'none' | 'waiting' | 'held';
  /** While waiting: when a holder that never lets go (a frozen tab) has its lock taken. */
  stealAt: number;
}

export interface ScheduleInput {
  now: number;
  /** Components reading the token. With none, nothing is fetched and nobody is woken. */
  consumers: number;
  /** A request is in flight. */
  inFlight: boolean;
  /** The token held, expired or not. */
  held: { expiresAt: number; refreshAt: number } | undefined;
  failure: Pick<FailureState, 'retryAt'> | undefined;
  /** Cross-tab sharing; undefined when off or the browser lacks Web Locks or BroadcastChannel. */
  tabs?: TabsInput | undefined;
}

/**
 * - `fetch`: ask the proxy now;
 * - `lock` / `steal`: ask for the room's cross-tab lock / take it from a holder that hangs;
 * - `release`: let the lock go (or stop waiting for it): nothing is due any more.
 */
export type ScheduleAction = 'none' | 'fetch' | 'lock' | 'steal' | 'release';

export interface ScheduleStep {
  action: ScheduleAction;
  /** When to look again (and tell consumers: the held token may have expired). `Infinity`: never. */
  wakeAt: number;
}

const NEVER = Number.POSITIVE_INFINITY;

/** When the next request is due: at the retry after a failure, at renewal, or now without a token. */
function dueAt({ now, held, failure }: Pick<ScheduleInput, 'now' | 'held' | 'failure'>): number {
  if (failure !== undefined) return failure.retryAt ?? NEVER;
  return held === undefined ? now : held.refreshAt;
}

/**
 * When a tab waiting for the lock stops waiting for its holder: halfway from renewal to expiry,
 * so the token is renewed before it expires even if the holder froze mid-request; without a
 * token, once the holder's request should have timed out.
 */
export function stealAt(held: ScheduleInput['held'], now: number, requestTimeoutMs: number): number {
  if (held === undefined || held.expiresAt <= now) return now + requestTimeoutMs;
  const halfway = held.refreshAt + (held.expiresAt - held.refreshAt) / 2;
  return Math.max(now + WAKE_RETRY_GAP_MS, Math.min(halfway, now + requestTimeoutMs));
}

/**
 * What to do now. Consumers are woken when the held token expires whatever else is going on,
 * a request in flight included, so an expired token is never shown.
 */
export function nextStep(input: ScheduleInput): ScheduleStep {
  const { now, consumers, inFlight, held, tabs } = input;
  // With no consumer nothing is due, and nobody is woken.
  const expiryWake = consumers && held !== undefined && held.expiresAt > now ? held.expiresAt : NEVER;
  if (inFlight) return { action: 'none', wakeAt: expiryWake };
  const due = consumers ? dueAt(input) : NEVER;
  if (due > now) return { action: tabs && tabs.lock !== 'none' ? 'release' : 'none', wakeAt: Math.min(due, expiryWake) };
  // Without cross-tab sharing, a tab acts as if it always held the lock.
  const lock = tabs?.lock ?? 'held';
  if (lock === 'held') return { action: 'fetch', wakeAt: expiryWake };
  if (lock === 'none') return { action: 'lock', wakeAt: expiryWake };
  return tabs!.stealAt <= now ? { action: 'steal', wakeAt: expiryWake } : { action: 'none', wakeAt: Math.min(tabs!.stealAt, expiryWake) };
}
