import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium, type FoundChromium } from './chromium';
import { openWebSocket } from './webSocket';

/**
 * Chromium whose pages a test can hide and freeze as the browser does to a background tab.
 *
 * A page Playwright launches cannot be frozen: Playwright turns on focus emulation in every page
 * of the browsers it launches, which keeps them visible, and `Page.setWebLifecycleState frozen`
 * on a visible page changes nothing (timers keep running; no `freeze` event), through its CDP
 * session or any other. So this Chromium is started by hand with `--remote-debugging-port=0`,
 * Playwright attaches with `connectOverCDP({ noDefaults: true })` (no focus emulation in the
 * default context), and lifecycle commands go through a DevTools connection of our own.
 */

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

export interface CdpConnection {
  /** Sends a command to the browser, or with `sessionId` to an attached target; rejects on a CDP error. */
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<T>;
  /** Every event the browser sends; returns the function that stops listening. */
  onEvent(listener: (event: CdpEvent) => void): () => void;
  close(): void;
}

/** Reads the DevTools endpoint Chromium writes to `DevToolsActivePort` once it listens. */
export async function readDevToolsEndpoint(profileDir: string, timeoutMs = 15_000): Promise<string> {
  const file = join(profileDir, 'DevToolsActivePort');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [port, path] = (await readFile(file, 'utf8').catch(() => '')).split('\n');
    if (port?.trim() && path?.trim()) return `ws://127.0.0.1:${port.trim()}${path.trim()}`;
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms: did Chromium start with --remote-debugging-port=0?`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A DevTools protocol connection to the browser endpoint (flat sessions: one socket for every target). */
export async function connectCdp(endpoint: string): Promise<CdpConnection> {
  let nextId = 1;
  let closedBecause: string | undefined;
  const pending = new Map<number, { method: string; resolve(value: unknown): void; reject(error: Error): void }>();
  const listeners = new Set<(event: CdpEvent) => void>();
  const socket = await openWebSocket(
    endpoint,
    (text) => {
      const message = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`CDP ${waiter.method}: ${message.error.message}`));
        else waiter?.resolve(message.result);
      } else if (message.method) {
        const event: CdpEvent = { method: message.method, params: message.params ?? {}, ...(message.sessionId ? { sessionId: message.sessionId } : {}) };
        listeners.forEach((listener) => listener(event));
      }
    },
    (reason) => {
      closedBecause = reason;
      pending.forEach((waiter) => waiter.reject(new Error(`CDP ${waiter.method}: ${reason}`)));
      pending.clear();
    },
  );
  return {
    send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
      if (closedBecause) return Promise.reject(new Error(`CDP ${method}: ${closedBecause}`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject });
        socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => socket.close(),
  };
}

/** What a test can do to one page's lifecycle. */
export interface PageLifecycle {
  /** Hides and freezes the page: timers and tasks stop, `visibilitychange` and `freeze` fire. */
  freeze(): Promise<void>;
  /** Unfreezes it (`resume` fires); it stays hidden until shown. */
  resume(): Promise<void>;
  /** Makes the page visible (and focused) again. */
  show(): Promise<void>;
}

export interface ChromiumWithCdp {
  browser: Browser;
  /** The default context: every page opened here can be frozen. */
  context: BrowserContext;
  cdp: CdpConnection;
  found: FoundChromium;
  /** Attaches our DevTools connection to a page of `context`. */
  lifecycle(page: Page): Promise<PageLifecycle>;
  /** Disconnects, stops the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium by hand (see above) with a fresh profile. Fails, never skips, naming
 * the binary and what it printed when it does not start.
 */
export async function launchChromiumWithCdp(): Promise<ChromiumWithCdp> {
  const found = await findChromium();
  const profileDir = await mkdtemp(join(tmpdir(), 'react-cas-token-chromium-cdp-'));
  const child = spawn(found.executablePath, [...CHROMIUM_ARGS, '--headless', `--user-data-dir=${profileDir}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + String(chunk)).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    await rm(profileDir, { recursive: true, force: true });
  };
  let browser: Browser | undefined;
  let cdp: CdpConnection | undefined;
  try {
    const endpoint = await Promise.race([
      readDevToolsEndpoint(profileDir),
      exited.then((code) => Promise.reject(new Error(`it exited with code ${code}`))),
    ]);
    browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true });
    cdp = await connectCdp(endpoint);
  } catch (cause) {
    await browser?.close().catch(() => {});
    await stop();
    throw new Error(
      `Chromium at ${found.executablePath} (from ${found.source}) did not start with a DevTools port: ${(cause as Error).message}. ` +
        `Its last output: ${stderr.trim() || '(none)'}`,
      { cause },
    );
  }
  const context = browser.contexts()[0]!;
  const connection = cdp;
  return {
    browser,
    context,
    cdp,
    found,
    async lifecycle(page) {
      // Playwright's session only tells which target the page is; every command goes through ours.
      const probe = await context.newCDPSession(page);
      const { targetInfo } = await probe.send('Target.getTargetInfo');
      await probe.detach();
      const { sessionId } = await connection.send<{ sessionId: string }>('Target.attachToTarget', { targetId: targetInfo.targetId, flatten: true });
      const send = (method: string, params: Record<string, unknown>) => connection.send(method, params, sessionId).then(() => {});
      return {
        async freeze() {
          // After show(): a page kept visible cannot be frozen.
          await send('Emulation.setFocusEmulationEnabled', { enabled: false });
          await send('Page.setWebLifecycleState', { state: 'frozen' });
        },
        resume: () => send('Page.setWebLifecycleState', { state: 'active' }),
        // Neither `Page.bringToFront` nor `Target.activateTarget` shows a headless page again;
        // focus emulation does (it counts as a capture, which keeps a page visible).
        show: () => send('Emulation.setFocusEmulationEnabled', { enabled: true }),
      };
    },
    async close() {
      connection.close();
      await browser.close().catch(() => {});
      await stop();
    },
  };
}
