/**
 * In-memory stand-ins for the Web Locks API and BroadcastChannel, shared by every provider in
 * one jsdom document, so each provider plays a browser tab. Both deliver asynchronously, as
 * browsers do: lock grants on a microtask, messages on a zero-delay timer (a task).
 */

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
  /** Every grant, oldest first: which client got which lock. */
  readonly grants: { name: string; clientId: string; stolen: boolean }[] = [];

  request(name: string, ...args: [LockGrantedCallback<unknown>] | [LockOptions, LockGrantedCallback<unknown>]): Promise<unknown> {
    const [options, callback] = args.length === 1 ? [{}, args[0]] : args;
    const { mode = 'exclusive', signal, steal = false } = options as LockOptions;
    return new Promise((resolve, reject) => {
      this.clients += 1;
      const request: Request = { name, mode, clientId: `client-${this.clients}`, callback: callback as Request['callback'], resolve, reject };
      if (signal?.aborted) return reject(signal.reason ?? abortError());
      if (steal) {
        for (const victim of this.held.filter((lock) => lock.name === name)) {
          this.held.splice(this.held.indexOf(victim), 1);
          victim.reject(abortError());
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

  async query(): Promise<LockManagerSnapshot> {
    const info = ({ name, mode, clientId }: Request) => ({ name, mode, clientId });
    return { held: this.held.map(info), pending: this.queue.map(info) };
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
    this.grants.push({ name: request.name, clientId: request.clientId, stolen });
    const done = Promise.resolve().then(() => request.callback({ name: request.name, mode: request.mode } as Lock));
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

export class FakeBroadcastChannel {
  onmessage: Listener | null = null;
  private closed = false;

  constructor(readonly name: string) {
    if (!channels.has(name)) channels.set(name, new Set());
    channels.get(name)!.add(this);
  }

  postMessage(data: unknown) {
    if (this.closed) throw new DOMException('Channel is closed', 'InvalidStateError');
    postedMessages.push({ name: this.name, data });
    // Structured clone, as the real channel does: no shared objects between tabs.
    const copy = structuredClone(data);
    for (const other of channels.get(this.name) ?? []) {
      if (other === this) continue;
      setTimeout(() => {
        if (!other.closed) other.onmessage?.(new MessageEvent('message', { data: copy }));
      }, 0);
    }
  }

  close() {
    this.closed = true;
    channels.get(this.name)?.delete(this);
  }
}

/** Gives the jsdom page both APIs; returns the lock manager and the function that takes them away. */
export function installFakeTabs() {
  const locks = new FakeLockManager();
  Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
  const original = globalThis.BroadcastChannel;
  globalThis.BroadcastChannel = FakeBroadcastChannel as unknown as typeof BroadcastChannel;
  postedMessages.length = 0;
  return {
    locks,
    uninstall() {
      delete (navigator as { locks?: unknown }).locks;
      globalThis.BroadcastChannel = original;
      channels.clear();
    },
  };
}
