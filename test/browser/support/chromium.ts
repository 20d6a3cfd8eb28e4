import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * Where the browser tests find Chromium, first match wins:
 * 1. `CHROMIUM_PATH`, when set (a missing file there is an error, never a silent fallback);
 * 2. a system Chromium or Chrome on the usual paths, so nobody unpacks a second one;
 * 3. the Chromium shipped inside the `@sparticuz/chromium` npm package (Linux x64 and arm64),
 *    unpacked to the temp dir on first use. Nothing is downloaded from outside the npm registry.
 */
export const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

// Without the network flags Chromium keeps calling Google's hosts, which a closed network refuses.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface FoundChromium {
  executablePath: string;
  /** How it was found, for the failure message and the test log. */
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';
}

export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  const named = env.CHROMIUM_PATH?.trim();
  if (named) {
    if (!existsSync(named)) throw new Error(`CHROMIUM_PATH names ${named}, which does not exist.`);
    return { executablePath: named, source: 'CHROMIUM_PATH' };
  }
  const system = SYSTEM_PATHS.find((path) => existsSync(path));
  if (system) return { executablePath: system, source: 'system' };
  try {
    const { default: bundled } = await import('@sparticuz/chromium');
    return { executablePath: await bundled.executablePath(), source: '@sparticuz/chromium' };
  } catch (cause) {
    throw new Error(
      `No Chromium found: CHROMIUM_PATH is unset, none of ${SYSTEM_PATHS.join(', ')} exists, and the one in ` +
        `@sparticuz/chromium could not be unpacked (${(cause as Error).message}; it ships Linux x64/arm64 builds only). ` +
        'Set CHROMIUM_PATH to a Chromium or Chrome binary.',
      { cause },
    );
  }
}

export interface LaunchedChromium {
  context: BrowserContext;
  found: FoundChromium;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile. Fails, never skips, when no browser starts,
 * naming the binary it tried and how it was found.
 */
export async function launchChromium(options: { viewport?: { width: number; height: number }; args?: string[] } = {}): Promise<LaunchedChromium> {
  const found = await findChromium();
  const profileDir = await mkdtemp(join(tmpdir(), 'react-cas-token-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: found.executablePath,
      headless: true,
      viewport: options.viewport ?? { width: 1280, height: 900 },
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    });
  } catch (cause) {
    await rm(profileDir, { recursive: true, force: true });
    throw new Error(
      `Chromium at ${found.executablePath} (from ${found.source}) did not start: ${(cause as Error).message}. ` +
        'Set CHROMIUM_PATH to another Chromium or Chrome binary.',
      { cause },
    );
  }
  return {
    context,
    found,
    async close() {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

export interface LaunchedBrowser {
  browser: Browser;
  found: FoundChromium;
  /** Closes the browser and every context in it. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium for tests with several participants: each `browser.newContext()` is
 * one participant (a profile of its own: its own cookies, Web Locks and BroadcastChannel), and
 * the pages of a context are that participant's tabs. Fails, never skips, like `launchChromium`.
 */
export async function launchChromiumBrowser(): Promise<LaunchedBrowser> {
  const found = await findChromium();
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: found.executablePath, headless: true, args: CHROMIUM_ARGS });
  } catch (cause) {
    throw new Error(
      `Chromium at ${found.executablePath} (from ${found.source}) did not start: ${(cause as Error).message}. ` +
        'Set CHROMIUM_PATH to another Chromium or Chrome binary.',
      { cause },
    );
  }
  return { browser, found, close: () => browser.close() };
}
