/**
 * In-memory stand-ins for the Web Locks API and BroadcastChannel, shared by every provider in
 * one jsdom document, so each provider plays a browser tab. Both deliver in a task (a zero-delay
 * timer), as browsers do, where the lock manager and the channels sit in another process: a lock
 * granted, taken away or queried, and a message, each reach the tab after what it is doing now.
 *
 * Both stop a runaway: a loop between tabs (each stealing the lock back as soon as it is taken,
 * tabs answering each other's messages) would run on for as long as a test moves the clock,
 * growing as it goes. Past a bound within one second (of the fake clock, when there is one)
 * they refuse, and `uninstall()` throws what they saw: the test fails within moments.
 */

/** Far more lock grants within a second than any number of tabs needs: a loop. */
export const MAX_GRANTS_PER_SECOND = 200;
/** Far more messages within a second than any number of tabs sends: a loop. */
export const MAX_MESSAGES_PER_SECOND = 1_000;

const inATask = (run: () => void) => void setTimeout(run, 0);

/** Counts events within the current second (Date.now(), fake or not); true once past `max`. */
function rateLimit(max: number) {
  let since = Number.NEGATIVE_INFINITY;
  let count = 0;
  return () => {
    const now = Date.now();
    if (now - since >= 1_000) [since, count] = [now, 0];
    count += 1;
    return count > max;
  };
}

interface Request {
  name: string;
  mode: LockMode;
  clientId: string;
  callback: (lock: Lock | null) => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

interface Held extends Request {
  done: Promise<unknown>;
}

const abortError = () => new DOMException('The lock request was aborted.', 'AbortError');

export class FakeLockManager {
  private held: Held[] = [];
  private queue: Request[] = [];
  private clients = 0;
  private tooManyGrants = rateLimit(MAX_GRANTS_PER_SECOND);
  /** Every grant, oldest first: which client got which lock. */
  readonly grants: { name: string; clientId: string; stolen: boolean }[] = [];
  /** Set once the tabs took locks more than MAX_GRANTS_PER_SECOND times within a second. */
  runaway: Error | undefined;

  request(name: string, ...args: [LockGrantedCallback<unknown>] | [LockOptions, LockGrantedCallback<unknown>]): Promise<unknown> {
    const [options, callback] = args.length === 1 ? [{}, args[0]] : args;
    const { mode = 'exclusive', signal, steal = false } = options as LockOptions;
    return new Promise((resolve, reject) => {
      this.clients += 1;
      const request: Request = { name, mode, clientId: `client-${this.clients}`, callback: callback as Request['callback'], resolve, reject };
      if (this.runaway) return reject(this.runaway);
      if (signal?.aborted) return reject(signal.reason ?? abortError());
      if (steal) {
        for (const victim of this.held.filter((lock) => lock.name === name)) {
          this.held.splice(this.held.indexOf(victim), 1);
          inATask(() => victim.reject(abortError()));
        }
        this.grant(request, true);
        return;
      }
      this.queue.push(request);
      signal?.addEventListener('abort', () => {
        const index = this.queue.indexOf(request);
        if (index === -1) return;
        this.queue.splice(index, 1);
        reject(signal.reason ?? abortError());
      });
      queueMicrotask(() => this.pump());
    });
  }

  query(): Promise<LockManagerSnapshot> {
    const info = ({ name, mode, clientId }: Request) => ({ name, mode, clientId });
    const snapshot = { held: this.held.map(info), pending: this.queue.map(info) };
    return new Promise((resolve) => inATask(() => resolve(snapshot)));
  }

  /** The client holding `name` now, if any. */
  holder(name: string): string | undefined {
    return this.held.find((lock) => lock.name === name && lock.mode === 'exclusive')?.clientId;
  }

  private grantable(request: Request): boolean {
    const same = this.held.filter((lock) => lock.name === request.name);
    if (request.mode === 'exclusive') return same.length === 0;
    return same.every((lock) => lock.mode === 'shared');
  }

  private pump() {
    for (const request of [...this.queue]) {
      const ahead = this.queue.slice(0, this.queue.indexOf(request)).some((other) => other.name === request.name);
      if (ahead || !this.grantable(request)) continue;
      this.queue.splice(this.queue.indexOf(request), 1);
      this.grant(request, false);
    }
  }

  private grant(request: Request, stolen: boolean) {
    if (this.tooManyGrants()) {
      this.runaway ??= new Error(
        `The fake Web Locks granted locks more than ${MAX_GRANTS_PER_SECOND} times within a second (the last: ${request.name}): the tabs are taking a lock from each other in a loop.`,
      );
      // Refused from now on: each tab goes on alone, and the test ends.
      request.reject(this.runaway);
      return;
    }
    this.grants.push({ name: request.name, clientId: request.clientId, stolen });
    const done = new Promise<void>((resolve) => inATask(resolve)).then(() =>
      request.callback({ name: request.name, mode: request.mode } as Lock),
    );
    const held: Held = { ...request, done };
    this.held.push(held);
    done.then(
      (value) => this.settle(held, () => request.resolve(value)),
      (error) => this.settle(held, () => request.reject(error)),
    );
  }

  private settle(held: Held, finish: () => void) {
    const index = this.held.indexOf(held);
    if (index !== -1) {
      this.held.splice(index, 1);
      finish();
    }
    this.pump();
  }
}

type Listener = (event: MessageEvent) => void;

/** Every message posted on any channel, for tests that check what was shared. */
export const postedMessages: { name: string; data: unknown }[] = [];
const channels = new Map<string, Set<FakeBroadcastChannel>>();
let tooManyMessages = rateLimit(MAX_MESSAGES_PER_SECOND);
let messageRunaway: Error | undefined;

export class FakeBroadcastChannel {
  onmessage: Listener | null = null;
  private closed = false;

  constructor(readonly name: string) {
    if (!channels.has(name)) channels.set(name, new Set());
    channels.get(name)!.add(this);
  }

  postMessage(data: unknown) {
    if (this.closed) throw new DOMException('Channel is closed', 'InvalidStateError');
    if (messageRunaway || tooManyMessages()) {
      messageRunaway ??= new Error(
        `The fake BroadcastChannel carried more than ${MAX_MESSAGES_PER_SECOND} messages within a second (the last on ${this.name}): the tabs are answering each other in a loop.`,
      );
      throw messageRunaway;
    }
    postedMessages.push({ name: this.name, data });
    // Structured clone, as the real channel does: no shared objects between tabs.
    const copy = structuredClone(data);
    for (const other of channels.get(this.name) ?? []) {
      if (other === this) continue;
      inATask(() => {
        if (!other.closed) other.onmessage?.(new MessageEvent('message', { data: copy }));
      });
    }
  }

  close() {
    this.closed = true;
    channels.get(this.name)?.delete(this);
  }
}

/**
 * Gives the jsdom page both APIs; returns the lock manager and the function that takes them
 * away, which throws when the tabs ran away (see MAX_GRANTS_PER_SECOND), failing the test.
 */
export function installFakeTabs() {
  const locks = new FakeLockManager();
  Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
  const original = globalThis.BroadcastChannel;
  globalThis.BroadcastChannel = FakeBroadcastChannel as unknown as typeof BroadcastChannel;
  postedMessages.length = 0;
  tooManyMessages = rateLimit(MAX_MESSAGES_PER_SECOND);
  messageRunaway = undefined;
  return {
    locks,
    uninstall() {
      delete (navigator as { locks?: unknown }).locks;
      globalThis.BroadcastChannel = original;
      channels.clear();
      const runaway = locks.runaway ?? messageRunaway;
      if (runaway) throw runaway;
    },
  };
}
