import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockCas, type MockCas } from '../../example/server/mockCas';
import { launchChromium, type LaunchedChromium } from './support/chromium';
import { readRecipes } from '../support/recipes';

const ROOT = resolve(import.meta.dirname, '../..');
const APP = join(ROOT, 'test/fixtures/next-app');
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');
/** Short enough that a renewal happens within seconds, long enough to read the page. */
const LIFETIME_MS = 6_000;
const CAS_ENV = ['CAS_URL', 'CAS_API_KEY', 'CAS_API_SECRET'] as const;

/**
 * The Next.js recipe (docs/frameworks.md), block by block, and where each goes in the app. The app holds only
 * what the recipe leaves to the reader (`@/auth`, `@/rooms`, `@/components/VideoCall`), a layout,
 * and a page with `useStreamToken`: the route handler, the room page, its client components and
 * its error boundary are the recipe's, run as written.
 */
const ROUTE = 'app/api/cas-token/route.ts';
const RECIPES: Record<string, string> = {
  // Both are the route file: `placeRoutes` puts one or the other there, per build.
  'next-route': ROUTE,
  'next-route-lazy': ROUTE,
  'next-provider': 'app/room/[room]/CasToken.tsx',
  'next-video': 'app/room/[room]/Video.tsx',
  'next-page': 'app/room/[room]/page.tsx',
  'next-error': 'app/room/[room]/error.tsx',
};
/** The fixture's rooms.ts lets only staff into these. */
const STAFF_ROOM = 'staff-meeting';
/** The lazy route, served next to the eager one when the build has the CAS variables. */
const LAZY_ROUTE = 'app/api/cas-token-lazy/route.ts';

interface Exchange {
  url: string;
  status: number;
  headers: string;
  body: string;
}

let mockCas: MockCas;
let server: ChildProcess | undefined;
let baseUrl: string;
let browser: LaunchedChromium;
/** A second browser, without the app's session cookie. */
let signedOutBrowser: LaunchedChromium | undefined;

interface Visit {
  page: Page;
  /** Errors nothing caught (`pageerror`). */
  uncaught: string[];
  /** What the page logged as an error or warning. */
  logged: string[];
  /** The statuses of the token proxy's answers to this page. */
  tokenAnswers: number[];
}

/** Opens `path` in a new page of `where`, recording what it reports apart from the main page. */
async function visit(where: BrowserContext, path: string): Promise<Visit> {
  const opened: Visit = { page: await where.newPage(), uncaught: [], logged: [], tokenAnswers: [] };
  opened.page.on('response', (response) => {
    if (new URL(response.url()).pathname === '/api/cas-token') opened.tokenAnswers.push(response.status());
  });
  opened.page.on('pageerror', (error) => opened.uncaught.push(String(error)));
  opened.page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') opened.logged.push(message.text());
  });
  await opened.page.goto(`${baseUrl}${path}`);
  return opened;
}

/** Waits for the recipe's error boundary, or Next's page for an error nothing caught, and reads it. */
async function shownText(page: Page): Promise<string> {
  await page.waitForFunction(() => /join this watch party|not open to you|couldn.t load/i.test(document.body.innerText), undefined, {
    timeout: 15_000,
  });
  return page.locator('body').innerText();
}
let context: BrowserContext;
let page: Page;
let recipes: Map<string, string>;
/** The build that is served: both routes, with the CAS variables. */
let built: Build;
/** docs/frameworks.md: "a build without the CAS variables fails there" with the eager route... */
let eagerWithoutCas: Build;
/** ...and builds with the lazy one. */
let lazyWithoutCas: Build;
let serverOutput = '';
const buildKey = `build-key-${randomUUID()}`;
const buildSecret = `build-secret-${randomUUID()}`;
const traffic: Exchange[] = [];
const consoleProblems: string[] = [];
const pageErrors: string[] = [];
const failedRequests: string[] = [];
const reading: Promise<void>[] = [];

/** The environment for Next: ours, without any CAS setting this shell may have, plus `extra`. */
function nextEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...extra };
  for (const name of CAS_ENV) if (!(name in extra)) delete env[name];
  delete env.NODE_ENV; // Next sets its own; vitest's 'test' would make `next build` warn
  return env;
}

function exited(child: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    if (child.exitCode !== null) return resolvePromise(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s.`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

interface Build {
  code: number | null;
  output: string;
  seconds: number;
}

/**
 * `next build` with `env` (CAS variables included or not), into a `.next` emptied of everything
 * but Turbopack's cache, which the builds of one run share.
 */
async function nextBuild(env: NodeJS.ProcessEnv): Promise<Build> {
  for (const entry of await readdir(join(APP, '.next')).catch(() => [])) {
    if (entry !== 'cache') await rm(join(APP, '.next', entry), { recursive: true, force: true });
  }
  const started = Date.now();
  const child = spawn(process.execPath, [NEXT_BIN, 'build'], { cwd: APP, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const code = await exited(child, 240_000, 'next build').catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  const build = { code, output, seconds: (Date.now() - started) / 1000 };
  console.info(`next build took ${build.seconds.toFixed(1)} s (exit ${code})`);
  return build;
}

/**
 * The route files of a build: `eager` is the recipe `next-route`, with the lazy route served
 * next to it; `lazy` is the recipe `next-route-lazy` in its place, for a build without the CAS
 * variables.
 */
async function placeRoutes(kind: 'eager' | 'lazy' | 'both'): Promise<void> {
  await rm(dirname(join(APP, LAZY_ROUTE)), { recursive: true, force: true });
  // Not in git (the route is only the recipe's), so a fresh clone has no folder for it yet.
  await mkdir(dirname(join(APP, ROUTE)), { recursive: true });
  await writeFile(join(APP, ROUTE), recipes.get(kind === 'lazy' ? 'next-route-lazy' : 'next-route')!);
  if (kind === 'both') {
    await mkdir(dirname(join(APP, LAZY_ROUTE)), { recursive: true });
    await writeFile(join(APP, LAZY_ROUTE), recipes.get('next-route-lazy')!);
  }
}

async function nextStart(): Promise<string> {
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '--hostname', '127.0.0.1', '--port', '0'], {
    cwd: APP,
    env: nextEnv({ CAS_URL: mockCas.url, CAS_API_KEY: mockCas.apiKey, CAS_API_SECRET: mockCas.apiSecret }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`next start did not say where it listens within 60 s:\n${serverOutput}`)), 60_000);
    const onOutput = (chunk: Buffer) => {
      serverOutput += String(chunk);
      // `--port 0` takes a free port; Next prints the one it got.
      const url = /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(serverOutput)?.[1];
      if (url && /Ready in/.test(serverOutput)) {
        clearTimeout(timer);
        resolvePromise(url);
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`next start exited (${code}):\n${serverOutput}`));
    });
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** A plain request from Node, recorded with the browser's traffic. */
async function get(path: string, init: RequestInit = {}): Promise<Exchange> {
  const response = await fetch(`${baseUrl}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  const exchange = {
    url: response.url,
    status: response.status,
    headers: JSON.stringify(Object.fromEntries(response.headers)),
    body: await response.text(),
  };
  traffic.push(exchange);
  return exchange;
}

const shownToken = (locator = '[data-testid="token"]') =>
  page.locator(locator).getAttribute('data-token').then((token) => token ?? '');

function expiresAtOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
  return payload.exp * 1000;
}

async function waitForTokenOtherThan(selector: string, previous: string, timeout: number): Promise<string> {
  await page.waitForFunction(
    ({ selector: where, old }) => {
      const token = document.querySelector(where)?.getAttribute('data-token') ?? '';
      return token.startsWith('ey') && token !== old;
    },
    { selector, old: previous },
    { timeout, polling: 50 },
  );
  return shownToken(selector);
}

beforeAll(async () => {
  for (const file of ['dist/index.js', 'dist/server.js']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first (\`npm test\` does).`);
  }

  recipes = new Map([...readRecipes()].map(([name, recipe]) => [name, recipe.code]));
  // The Next.js recipes; the others (Hono, Express, Redis, tests, stories) run elsewhere.
  expect([...recipes.keys()].filter((name) => name.startsWith('next-')).sort()).toEqual(Object.keys(RECIPES).sort());
  for (const [name, file] of Object.entries(RECIPES)) {
    const code = recipes.get(name)!;
    // The file a block says it is, is the file it becomes.
    expect(code.split('\n', 1)[0]).toMatch(new RegExp(`^// ${file.replace(/[[\]]/g, '\\$&')}\\b`));
    if (file === ROUTE) continue;
    await mkdir(dirname(join(APP, file)), { recursive: true });
    await writeFile(join(APP, file), code);
  }

  // Installed as an app installs it: `react-cas-token` is a package whose package.json (and so
  // its exports map) and dist are this repository's, not an alias to the source.
  const installed = join(APP, 'node_modules/react-cas-token');
  await rm(installed, { recursive: true, force: true });
  await mkdir(installed, { recursive: true });
  await symlink('../../../../../package.json', join(installed, 'package.json'));
  await symlink('../../../../../dist', join(installed, 'dist'), 'dir');

  await rm(join(APP, '.next'), { recursive: true, force: true });
  // A build where the CAS variables exist only at run time (a CI build, a Docker image): the
  // eager route cannot be built, the lazy one can.
  await placeRoutes('eager');
  eagerWithoutCas = await nextBuild(nextEnv({}));
  await placeRoutes('lazy');
  lazyWithoutCas = await nextBuild(nextEnv({}));

  // Served: both routes, built with values for the route modules that `next build` loads, none of
  // which may reach the output.
  await placeRoutes('both');
  built = await nextBuild(nextEnv({ CAS_URL: 'https://cas.example.invalid', CAS_API_KEY: buildKey, CAS_API_SECRET: buildSecret }));
  if (built.code !== 0) throw new Error(`next build failed (exit ${built.code}):\n${built.output}`);

  mockCas = await startMockCas({ apiKey: `mock-key-${randomUUID()}`, apiSecret: `mock-secret-${randomUUID()}`, lifetimeMs: LIFETIME_MS });
  baseUrl = await nextStart();

  browser = await launchChromium();
  context = browser.context;
  await context.addCookies([{ name: 'session', value: 'fixture-user', url: baseUrl }]);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  context.on('requestfailed', (request) => failedRequests.push(`${request.url()}: ${request.failure()?.errorText}`));
  context.on('response', (response) => {
    const exchange: Exchange = { url: response.url(), status: response.status(), headers: '', body: '' };
    traffic.push(exchange);
    reading.push(
      (async () => {
        exchange.headers = JSON.stringify(await response.allHeaders());
        exchange.body = await response.text().catch(() => '');
      })(),
    );
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await signedOutBrowser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await exited(server, 10_000, 'next start').catch(() => server?.kill('SIGKILL'));
  }
  await mockCas?.close();
});

describe("the Next.js recipe (docs/frameworks.md) in a Next.js 16 app (next build, next start)", () => {
  it('builds, prerendering the room page as a shell that is its Suspense fallback, and logging no error', async () => {
    expect(built.output).toMatch(/◐ \/room\/\[room\]/);
    expect(built.output).toMatch(/ƒ \/api\/cas-token\b/);
    expect(built.output).toMatch(/◐ \/live\/\[room\]/);
    expect(built.output).not.toMatch(/error|⨯|warn/i);

    const html = await readFile(join(APP, '.next/server/app/room/[room].html'), 'utf8');
    expect(html).toContain('<p>Connecting…</p>');
    expect(html).not.toContain('data-testid="token"');
  });

  it('builds without the CAS variables when the route is the lazy one (next-route-lazy)', () => {
    expect(lazyWithoutCas.output).not.toMatch(/error|⨯|warn/i);
    expect(lazyWithoutCas.code).toBe(0);
    expect(lazyWithoutCas.output).toMatch(/ƒ \/api\/cas-token\b/);
  });

  it('fails a build without the CAS variables on the eager route, pointing at the lazy one', () => {
    expect(eagerWithoutCas.code).not.toBe(0);
    expect(eagerWithoutCas.output).toMatch(/Failed to collect (configuration|page data) for \/api\/cas-token/);
    expect(eagerWithoutCas.output).toContain('The CAS URL is missing');
    expect(eagerWithoutCas.output).toMatch(/create the handler on first use.*await connection\(\)/);
  });

  it('serves the room named in the URL with the fallback, then shows a token in the browser', async () => {
    const response = await page.goto(`${baseUrl}/room/movie-night`);

    expect(response?.status()).toBe(200);
    expect(await response?.text()).toContain('Connecting…');
    const token = await waitForTokenOtherThan('[data-testid="token"]', '', 15_000);
    expect(expiresAtOf(token)).toBeGreaterThan(Date.now());
  });

  it('renews the token before it expires', async () => {
    const first = await shownToken();

    const second = await waitForTokenOtherThan('[data-testid="token"]', first, LIFETIME_MS + 5_000);

    expect(Date.now()).toBeLessThan(expiresAtOf(first));
    expect(expiresAtOf(second)).toBeGreaterThan(expiresAtOf(first));
  });

  it('renders the dynamic page on the server for each request as pending, then gets its own token in the browser', async () => {
    const served = await get('/live/anime-club', { headers: { cookie: 'session=fixture-user' } });
    expect(served.status).toBe(200);
    expect(served.body).toContain('Live: <!-- -->anime-club');
    expect(served.body).toContain('data-status="pending"');

    await page.goto(`${baseUrl}/live/anime-club`);
    await waitForTokenOtherThan('[data-testid="status"]', '', 15_000);
    expect(await page.getByTestId('status').getAttribute('data-status')).toBe('success');
  });

  it.each(['/api/cas-token', '/api/cas-token-lazy'])(
    "answers through the recipe's route %s: a token, 401 without the app's session, 403 for a room the user may not join",
    async (route) => {
      const signedIn = { headers: { cookie: 'session=fixture-user' } };
      const answer = await get(`${route}?room=movie-night`, signedIn);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual(expect.objectContaining({ token: expect.stringMatching(/^ey/), expiresIn: expect.any(Number) }));

      const signedOut = await get(`${route}?room=movie-night`);
      expect([signedOut.status, JSON.parse(signedOut.body).error]).toEqual([401, 'unauthorized']);
      const refused = await get(`${route}?room=${STAFF_ROOM}`, signedIn);
      expect([refused.status, JSON.parse(refused.body).error]).toEqual([403, 'forbidden']);
    },
  );

  it('shows a signed-out visitor a message to sign in, not a crashed page', async () => {
    signedOutBrowser = await launchChromium();

    const visitor = await visit(signedOutBrowser.context, '/room/movie-night');

    expect(await shownText(visitor.page)).toBe('Sign in to join this watch party.');
    expect(visitor.tokenAnswers).toEqual([401]);
    expect(visitor.uncaught).toEqual([]);
    // Chromium's line for any 4xx, and Next's for an error an error.tsx caught, in production too.
    expect(visitor.logged).toEqual([
      'Failed to load resource: the server responded with a status of 401 (Unauthorized)',
      expect.stringMatching(/^CasTokenError: The token proxy \/api\/cas-token refused the request with HTTP 401 .*: is the user signed in\?\n/),
    ]);
  });

  it('shows a signed-in user refused the room that it is not open to them, not a sign-in prompt', async () => {
    const refused = await visit(context, `/room/${STAFF_ROOM}`);

    expect(await shownText(refused.page)).toBe('This watch party is not open to you.');
    expect(refused.tokenAnswers).toEqual([403]);
    expect(refused.uncaught).toEqual([]);
    expect(refused.logged).toEqual([
      'Failed to load resource: the server responded with a status of 403 (Forbidden)',
      expect.stringMatching(/^CasTokenError: The token proxy \/api\/cas-token refused the request with HTTP 403 .*: the user may not join this room\.\n/),
    ]);
    await refused.page.close();
  });

  it('logs no error on the server and none in the page (no React #419), and no request fails', () => {
    expect(serverOutput).toMatch(/Ready in/);
    expect(serverOutput).not.toMatch(/error|⨯|warn/i);
    expect(pageErrors).toEqual([]);
    expect(consoleProblems).toEqual([]);
    // Token requests included: Chromium reports one whose body only a script's stream read as cancelled.
    expect(failedRequests).toEqual([]);
    expect(traffic.filter((exchange) => exchange.status >= 400 && exchange.url.startsWith(baseUrl) && !exchange.url.includes('/api/cas-token'))).toEqual([]);
  });

  it('never lets the CAS key or secret reach .next/static, a response or the log', async () => {
    await Promise.all(reading);
    const files = await listFiles(join(APP, '.next/static'));
    const bundle = (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('\n');
    const everything = [bundle, serverOutput, built.output, lazyWithoutCas.output, eagerWithoutCas.output, ...traffic.flatMap((exchange) => [exchange.url, exchange.headers, exchange.body])].join('\n');

    // What is searched is the real thing: the client code and the token answers are in it.
    expect(bundle).toContain('/api/cas-token');
    const tokenAnswers = traffic.filter((exchange) => exchange.url.includes('/api/cas-token') && exchange.body.includes('"token"'));
    expect(tokenAnswers.length).toBeGreaterThanOrEqual(5); // three in the browser, two from Node
    for (const secret of [buildSecret, buildKey, mockCas.apiSecret, mockCas.apiKey]) expect(everything).not.toContain(secret);
  });
});
