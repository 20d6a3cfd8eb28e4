import { CasTokenError } from './core/CasTokenError.js';
import { readClaims, type StreamTokenInfo } from './core/decodeStreamToken.js';
import { FETCHER_TIMEOUT_MS } from './core/fetchStreamToken.js';
import { computeRefreshAt } from './core/refreshTiming.js';
import { isNewerToken, isRelevantFailure, readTabMessage, tabLinkName, type TabMessage } from './core/tabLink.js';
import { stealAt, type FailureState, type ScheduleAction, type TabsInput } from './core/tokenSchedule.js';

/** How long a tab holding the lock waits for its siblings' answers before asking the proxy. */
export const SIBLING_REPLY_MS = 250;

export interface TabSyncHooks {
  refreshLeadMs: number;
  /** Something the schedule depends on changed: decide again. */
  changed(): void;
  held(): StreamTokenInfo | undefined;
  failure(): FailureState | undefined;
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
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (!locks || typeof BroadcastChannel === 'undefined') return undefined;
  const name = tabLinkName(room);
  // Held in shared mode while open, so the siblings can be counted without asking them.
  const presence = `${name}:present`;
  const channel = new BroadcastChannel(name);
  let lock: TabsInput['lock'] = 'none';
  let stealDeadline = Infinity;
  let siblingsAsked = false;
  let release: (() => void) | undefined;
  let waiting: AbortController | undefined;
  let asking: { replies: number; done: () => void } | undefined;
  let closed = false;
  let leave: (() => void) | undefined;
  locks.request(presence, { mode: 'shared' }, () => (closed ? undefined : new Promise<void>((resolve) => (leave = resolve)))).catch(() => {});

  const post = (message: TabMessage) => closed || channel.postMessage(message);

  function current(): TabMessage {
    const held = hooks.held();
    const failure = hooks.failure();
    // `claims` and `refreshAt` each tab works out itself; the error's fields travel as data.
    const { claims: _claims, refreshAt: _refreshAt, ...token } = held ?? ({} as StreamTokenInfo);
    return {
      token: held && held.expiresAt > Date.now() ? token : undefined,
      failure: failure && { ...failure, error: { ...failure.error, message: failure.error.message } },
    };
  }

  channel.onmessage = ({ data }: MessageEvent) => {
    const message = readTabMessage(data);
    if (!message) return;
    if ('hello' in message) return post(current());
    if (asking && --asking.replies <= 0) asking.done();
    const { token, failure } = message;
    const now = Date.now();
    const held = hooks.held();
    if (token && isNewerToken(token, held, now)) {
      try {
        const claims = readClaims(token.token);
        hooks.adoptToken({ ...token, claims, refreshAt: computeRefreshAt(token.receivedAt, token.expiresAt, hooks.refreshLeadMs, token.rotateAt) });
      } catch {
        // Not a JWT: dropped like any malformed message.
      }
    } else if (failure && isRelevantFailure(failure, held, hooks.failure(), now)) {
      hooks.adoptFailure({ ...failure, error: new CasTokenError(failure.error.code, failure.error.message, failure.error) });
    }
    hooks.changed();
  };

  function letGo() {
    waiting?.abort();
    release?.();
    waiting = release = undefined;
    lock = 'none';
    siblingsAsked = false;
  }

  function requestLock(steal: boolean) {
    waiting?.abort();
    const attempt = (waiting = new AbortController());
    lock = 'waiting';
    siblingsAsked = false;
    stealDeadline = stealAt(hooks.held(), Date.now(), FETCHER_TIMEOUT_MS + 1_000);
    let granted: (() => void) | undefined;
    // The API refuses `signal` together with `steal`: stealing never waits anyway.
    locks!
      .request(name, steal ? { steal } : { signal: attempt.signal }, () =>
        new Promise<void>((releaseLock) => {
          granted = releaseLock;
          if (waiting !== attempt || closed) return releaseLock();
          waiting = undefined;
          release = releaseLock;
          lock = 'held';
          hooks.changed();
        }),
      )
      .catch(() => {
        // Aborted while waiting (a newer request or letGo() set the state), or stolen while held.
        if (!granted || release !== granted) return;
        release = undefined;
        lock = 'none';
        hooks.changed();
      });
    // Waiting has a deadline (the steal): the schedule must wake for it.
    hooks.changed();
  }

  async function askSiblings() {
    const { held = [] } = await locks!.query();
    const count = held.filter((other) => other.name === presence).length - 1;
    if (count > 0 && !closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SIBLING_REPLY_MS);
        asking = { replies: count, done: () => (clearTimeout(timer), resolve()) };
        post({ hello: true });
      });
    }
    asking = undefined;
    siblingsAsked = true;
    if (!closed) hooks.changed();
  }

  return {
    /** The schedule's input; a question to the siblings counts as a request in flight. */
    input: (): TabsInput => ({ lock, stealAt: stealDeadline, siblingsAsked }),
    isAsking: () => asking !== undefined,

    act(action: ScheduleAction) {
      if (action === 'lock' || action === 'steal') requestLock(action === 'steal');
      else if (action === 'release') letGo();
      else if (action === 'ask-siblings' && !asking) {
        asking = { replies: 0, done() {} };
        askSiblings().catch(() => {});
      }
    },

    /** Tells the siblings this tab's new token or failure (after its own request). */
    publish: () => post(current()),
    /** After sleep or a freeze: whoever holds a newer token, say so. */
    greet: () => post({ hello: true }),

    close() {
      asking?.done();
      letGo();
      closed = true;
      channel.onmessage = null;
      channel.close();
      leave?.();
    },
  };
}
