import type { StreamTokenInfo } from './core/decodeStreamToken.js';
import { FETCHER_TIMEOUT_MS } from './core/fetchStreamToken.js';
import { isNewerToken, isRelevantFailure, readTabMessage, tabLinkName, type TabMessage } from './core/tabLink.js';
import { stealAt, type FailureState, type ScheduleAction, type TabsInput } from './core/tokenSchedule.js';

/** How long a tab holding the lock waits for its siblings' answers before asking the proxy. */
export const SIBLING_REPLY_MS = 250;

export interface TabSyncHooks {
  refreshLeadMs: number;
  /** Something the schedule depends on changed: decide again. */
  changed(): void;
  held(): StreamTokenInfo | undefined;
  /** The held token with the time it is next due (for renewal or a check). */
  scheduled(): StreamTokenInfo | undefined;
  /** When the proxy last confirmed the held token, to this tab or a sibling. */
  confirmedAt(): number;
  /** A sibling heard from the proxy at `at` that the token both hold is still the room's. */
  confirm(at: number): void;
  failure(): FailureState | undefined;
  /** A sibling took the lock from this tab: its request, if any, is no longer this tab's to make. */
  stolen(): void;
  /** A sibling's newer token, to hold as if this tab had fetched it. */
  adoptToken(info: StreamTokenInfo): void;
  /** A sibling's failure, when this tab needs a token too. */
  adoptFailure(failure: FailureState): void;
}

export type TabSync = NonNullable<ReturnType<typeof createTabSync>>;

/**
 * The effects of sharing one token between the tabs of a room: a Web Lock that one tab at a time
 * holds to ask the proxy, a BroadcastChannel for the tokens, the questions to the siblings. The
 * decisions are the core's: `tokenSchedule` says which action to take, `tabLink` which token or
 * failure to adopt. Undefined where the browser lacks Web Locks or BroadcastChannel (server
 * rendering, jsdom, old browsers): each tab then works on its own.
 */
export function createTabSync(room: string | undefined, hooks: TabSyncHooks) {
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof BroadcastChannel === 'undefined') return undefined;
  const name = tabLinkName(room);
  // Held in shared mode while open, so the siblings can be counted without asking them.
  const presence = `${name}:present`;
  const channel = new BroadcastChannel(name);
  // What the schedule reads: where this tab stands with the lock.
  const input: TabsInput = { lock: 'none', stealAt: Infinity };
  let release: (() => void) | undefined;
  let waiting: AbortController | undefined;
  // While asking the siblings: counts one more answer.
  let replied: (() => void) | undefined;
  let closed = false;
  let refused = false;
  // Until when this tab does not take the lock back from the sibling that took it from it.
  let patientUntil = Number.NEGATIVE_INFINITY;
  let leave: (() => void) | undefined;
  locks.request(presence, { mode: 'shared' }, () => (closed ? undefined : new Promise<void>((resolve) => (leave = resolve)))).catch(() => {});

  const post = (message: TabMessage) => closed || channel.postMessage(message);

  function current(): TabMessage {
    const failure = hooks.failure();
    // The token as held (the receiver decodes it again); the error's fields as data, since a
    // browser clones an Error without them.
    return {
      token: hooks.held(),
      confirmedAt: hooks.confirmedAt(),
      failure: failure && { ...failure, error: { ...failure.error, message: failure.error.message } },
    };
  }

  channel.onmessage = ({ data }: MessageEvent) => {
    const message = readTabMessage(data, hooks.refreshLeadMs);
    if (!message) return post(current());
    replied?.();
    const { token, confirmedAt, failure } = message;
    const now = Date.now();
    const held = hooks.held();
    if (token && isNewerToken(token, held, now)) hooks.adoptToken(token);
    else {
      if (token && token.token === held?.token && confirmedAt !== undefined && confirmedAt <= now) hooks.confirm(confirmedAt);
      // A sibling holding the same token says how its renewal or check went: failing, this tab's would too.
      if (failure && isRelevantFailure(failure, hooks.scheduled(), hooks.confirmedAt(), hooks.failure(), now)) hooks.adoptFailure(failure);
    }
    hooks.changed();
  };

  function letGo() {
    waiting?.abort();
    release?.();
    waiting = release = undefined;
    input.lock = 'none';
  }

  /**
   * Before asking the proxy, the tab granted the lock asks its siblings (counted by the presence
   * lock) for their token, and waits for every answer, SIBLING_REPLY_MS at most (the count
   * included): a sibling that renewed while this tab waited has published its token, but the
   * lock may be granted before that arrives.
   */
  const askSiblings = () =>
    new Promise((resolve) => {
      setTimeout(resolve, SIBLING_REPLY_MS);
      locks!.query().then(({ held = [] }) => {
        let count = held.filter((other) => other.name === presence).length - 1;
        if (count < 1) return resolve(0);
        replied = () => --count || resolve(0);
        post({ hello: true });
      }, resolve);
    });

  function requestLock(steal: boolean) {
    waiting?.abort();
    const attempt = (waiting = new AbortController());
    let mine: (() => void) | undefined;
    input.lock = 'waiting';
    // A tab whose lock was just taken knows the taker is alive: it waits out a whole request
    // before taking it back. Otherwise two tabs take it from each other every second, each
    // restarting the request, while a slow proxy answers neither.
    const now = Date.now();
    input.stealAt = now < patientUntil ? patientUntil : stealAt(hooks.held(), now, FETCHER_TIMEOUT_MS + 1_000);
    const asked = () => {
      replied = undefined;
      // Unless a sibling's answer made the request needless meanwhile (the schedule let go).
      if (release === mine) {
        input.lock = 'held';
        hooks.changed();
      }
    };
    // The API refuses `signal` together with `steal`: stealing never waits anyway.
    locks!
      .request(name, steal ? { steal } : { signal: attempt.signal }, () => {
        // Not if a newer request or letGo() (close() too) withdrew this one meanwhile.
        if (waiting !== attempt) return;
        waiting = undefined;
        // Granted: no steal while the siblings are asked. The lock is held until `release`,
        // which letGo() calls even while the question is still out.
        input.stealAt = Infinity;
        askSiblings().then(asked);
        return new Promise<void>((resolve) => (release = mine = resolve));
      })
      .catch(() => {
        // Refused rather than withdrawn by this tab: the browser will not lock here (an opaque
        // origin, as in a sandboxed iframe). The tab goes on alone rather than wait forever.
        if (waiting === attempt) refused = true;
        // Stolen while held, or refused: let go. (Withdrawn: a newer request or letGo() set the state.)
        const stolen = !refused && mine !== undefined && release === mine;
        if (refused || stolen) {
          letGo();
          if (stolen) {
            patientUntil = Date.now() + FETCHER_TIMEOUT_MS + 1_000;
            hooks.stolen();
          }
          hooks.changed();
        }
      });
    // Waiting has a deadline (the steal): the schedule must wake for it.
    hooks.changed();
  }

  return {
    /** The schedule's input (read, never changed, by the schedule); undefined once refused the lock. */
    input: (): Readonly<TabsInput> | undefined => (refused ? undefined : input),

    act: (action: Exclude<ScheduleAction, 'none' | 'fetch'>) => (action === 'release' ? letGo() : requestLock(action === 'steal')),

    /** Tells the siblings this tab's new token or failure (after its own request). */
    publish: () => post(current()),

    close() {
      letGo();
      closed = true;
      channel.onmessage = null;
      channel.close();
      leave?.();
    },
  };
}
