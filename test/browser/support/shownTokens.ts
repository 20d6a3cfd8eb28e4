import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';

/**
 * What a page of the example shows, recorded in the page itself: each change of the token in
 * `[data-testid="token"]`'s `data-token`, stamped with Date.now() (the pages and the test process
 * read one clock). Agreement and expiry are then checked on the record at every moment, never by
 * racing a read against a render.
 */

/** Each change of what a page shows: [Date.now(), data-token ('' while it holds none)]. */
export type TokenLog = [number, string][];

/** For `addInitScript`: logs each change of the token shown, before any script of the page runs. */
export function recordShownToken() {
  const log: [number, string][] = [];
  (window as unknown as { tokenLog: typeof log }).tokenLog = log;
  let last: string | undefined;
  const read = () => {
    const token = document.querySelector('[data-testid="token"]')?.getAttribute('data-token') ?? '';
    if (token !== last) log.push([Date.now(), (last = token)]);
  };
  new MutationObserver(read).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-token'] });
}

/** The page's record so far. */
export const readTokenLog = (page: Page): Promise<TokenLog> => page.evaluate(() => (window as unknown as { tokenLog: TokenLog }).tokenLog);

/** The token a log says was shown at `at` ('' before its first entry). */
export function shownAt(log: TokenLog, at: number): string {
  let token = '';
  for (const [when, value] of log) {
    if (when > at) break;
    token = value;
  }
  return token;
}

/** When a log first shows `token`, or undefined. */
export const firstShown = (log: TokenLog, token: string) => log.find(([, value]) => value === token)?.[0];

/** A JWT's `exp`, in epoch ms. */
export function expiresAtOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
  return payload.exp * 1000;
}

/**
 * Each moment in [from, to) a page showed an expired token, or no token after it had shown one
 * (a page still waiting for its first token lapses nothing).
 */
export function lapses(log: TokenLog, from: number, to: number): string[] {
  const found: string[] = [];
  log.forEach(([shownFrom, token], i) => {
    const until = Math.min(log[i + 1]?.[0] ?? to, to);
    if (until <= from) return;
    if (token === '' && i > 0) found.push(`no token from ${shownFrom} to ${until}`);
    else if (token !== '' && until > expiresAtOf(token)) found.push(`a token ${until - expiresAtOf(token)} ms past its expiry`);
  });
  return found;
}

/** Polls `check` every 20 ms until it returns a value, failing with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Waited ${timeoutMs} ms for ${what}.`);
    await sleep(20);
  }
}
