import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedChromium } from './support/chromium';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Every story in stories/, and the text it must show once its play function has passed. */
const EXPECTED: Record<string, string> = {
  'callbadge--live': 'Live · token 1',
  'callbadge--renewing': 'Live · token 2',
  'callbadge--pending': 'Connecting…',
  'callbadge--unauthorized': 'Signed out: sign in to join',
  'callbadge--recovers-from-network-error': 'Live · token 1',
  'callbadge-through-msw--live': 'Live · token 1',
  'callbadge-through-msw--recovers-from-network-error': 'Live · token 1',
};

/**
 * The console errors a story causes on purpose: Chromium logs every request that ends in a
 * network error, and this story's first request does (through the service worker). Any other
 * console error fails the story.
 */
const BROWSER_LOGS: Record<string, string[]> = {
  'callbadge-through-msw--recovers-from-network-error': ['Failed to load resource: net::ERR_FAILED'],
};

/** What the preview's channel said about the story: Storybook's own events, recorded in the page. */
interface StoryEvent {
  event: string;
  payload: unknown;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

let outDir: string;
let server: Server;
let baseUrl: string;
let browser: LaunchedChromium;
let buildMs: number;

/** Serves the static build on 127.0.0.1, as any static host would. */
function serveStatic(dir: string): Server {
  return createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir)) {
      res.statusCode = 403;
      res.end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
        res.end(body);
      },
      () => {
        res.statusCode = 404;
        res.end('not found');
      },
    );
  });
}

/**
 * Records the preview's events from the moment Storybook creates its channel, before any story
 * renders: STORY_FINISHED (with `status: 'success' | 'error'`), PLAY_FUNCTION_THREW_EXCEPTION,
 * and the errors a story can throw.
 */
function recordStoryEvents() {
  const events: StoryEvent[] = [];
  (window as unknown as { __storyEvents: StoryEvent[] }).__storyEvents = events;
  let channel: { on(event: string, listener: (...args: unknown[]) => void): void } | undefined;
  Object.defineProperty(window, '__STORYBOOK_ADDONS_CHANNEL__', {
    configurable: true,
    get: () => channel,
    set(value) {
      channel = value;
      for (const event of ['storyFinished', 'playFunctionThrewException', 'storyThrewException', 'storyErrored', 'storyMissing', 'unhandledErrorsWhilePlaying']) {
        value.on(event, (payload: unknown) => events.push({ event, payload }));
      }
    },
  });
}

interface Visit {
  events: StoryEvent[];
  text: string;
  /** Console errors and warnings. */
  consoleErrors: string[];
  pageErrors: string[];
}

/** Opens one story alone, as a visit does, and waits until Storybook says it has finished (play function included). */
async function visit(id: string): Promise<Visit> {
  const page: Page = await browser.context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    await page.addInitScript(recordStoryEvents);
    await page.goto(`${baseUrl}/iframe.html?id=${id}&viewMode=story`);
    await page.waitForFunction(
      () => (window as unknown as { __storyEvents?: StoryEvent[] }).__storyEvents?.some((e) => e.event === 'storyFinished' || e.event === 'storyMissing'),
      undefined,
      { timeout: 20_000, polling: 50 },
    );
    const events = await page.evaluate(() => (window as unknown as { __storyEvents: StoryEvent[] }).__storyEvents);
    const text = (await page.locator('#storybook-root').textContent()) ?? '';
    return { events, text, consoleErrors, pageErrors };
  } finally {
    await page.close();
  }
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'react-cas-token-storybook-'));
  const started = performance.now();
  // The package script users run: msw's worker file is generated from node_modules, never downloaded.
  await run('npm', ['run', '--silent', 'build-storybook', '--', '--output-dir', outDir, '--quiet'], {
    cwd: ROOT,
    env: { ...process.env, STORYBOOK_DISABLE_TELEMETRY: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  buildMs = performance.now() - started;
  console.info(`storybook build: ${(buildMs / 1000).toFixed(1)} s`);
  server = serveStatic(outDir);
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('the Storybook build of stories/, in Chromium', () => {
  it('builds every story, with the msw worker, and nothing else', async () => {
    const index = JSON.parse(await readFile(join(outDir, 'index.json'), 'utf8')) as { entries: Record<string, { type: string }> };
    const stories = Object.entries(index.entries).filter(([, entry]) => entry.type === 'story').map(([id]) => id);

    expect(stories.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(await readFile(join(outDir, 'mockServiceWorker.js'), 'utf8')).toContain('Mock Service Worker');
  });

  it.each(Object.entries(EXPECTED))('%s shows "%s", its play function passes, and nothing errs', async (id, expected) => {
    const { events, text, consoleErrors, pageErrors } = await visit(id);

    expect(events.filter((e) => e.event !== 'storyFinished')).toEqual([]);
    expect(events).toEqual([{ event: 'storyFinished', payload: expect.objectContaining({ storyId: id, status: 'success' }) }]);
    expect(text).toContain(expected);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual(BROWSER_LOGS[id] ?? []);
  });
});
