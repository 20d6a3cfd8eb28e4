import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockCas, type MockCas } from '../../example/server/mockCas';
import { launchChromium, type LaunchedChromium } from './support/chromium';
import { copyRecipes, freePort, linkBuiltPackage, ROOT, runNode, stop } from './support/fixtureApp';

const APP = join(ROOT, 'test/fixtures/react-router-app');
const REACT_ROUTER_BIN = join(ROOT, 'node_modules/@react-router/dev/bin.js');
const SERVE_BIN = join(ROOT, 'node_modules/@react-router/serve/bin.js');
const TSC_BIN = join(ROOT, 'node_modules/typescript/bin/tsc');
/** Short enough that a renewal happens within seconds, long enough to read the page. */
const LIFETIME_MS = 6_000;
const CAS_ENV = ['CAS_URL', 'CAS_API_KEY', 'CAS_API_SECRET'] as const;

/**
 * The React Router recipe (docs/frameworks.md), block by block, and where each goes in the app. The app
 * holds only what the recipe leaves to the reader (`~/session`, `~/components/VideoCall`, the
 * home page), the root layout and the configuration.
 */
const RECIPES: Record<string, string> = {
  'react-router-routes': 'app/routes.ts',
  'react-router-resource-route': 'app/routes/api.cas-token.ts',
  'react-router-room': 'app/routes/room.tsx',
  'react-router-entry-server': 'app/entry.server.tsx',
  'react-router-entry-client': 'app/entry.client.tsx',
};

interface Exchange {
  url: string;
  method: string;
  status: number;
  headers: string;
  body: string;
}

let mockCas: MockCas;
let server: ChildProcess | undefined;
let baseUrl: string;
let browser: LaunchedChromium;
let page: Page;
let buildOutput = '';
let serverOutput = '';
const buildKey = `build-key-${randomUUID()}`;
const buildSecret = `build-secret-${randomUUID()}`;
const traffic: Exchange[] = [];
const tokenRequests: string[] = [];
const consoleProblems: string[] = [];
const pageErrors: string[] = [];
const failedRequests: string[] = [];
const reading: Promise<void>[] = [];

/** The environment for React Router: ours, without any CAS setting this shell may have, plus `extra`. */
function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of CAS_ENV) if (!(name in extra)) delete env[name];
  env.NODE_ENV = 'production'; // vitest's 'test' is no mode React Router knows
  return env;
}

async function serve(): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVE_BIN, 'build/server/index.js'], {
    cwd: APP,
    env: appEnv({
      CAS_URL: mockCas.url,
      CAS_API_KEY: mockCas.apiKey,
      CAS_API_SECRET: mockCas.apiSecret,
      HOST: '127.0.0.1',
      PORT: String(port),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`react-router-serve did not say it listens within 30 s:\n${serverOutput}`)), 30_000);
    const onOutput = (chunk: Buffer) => {
      serverOutput += String(chunk);
      if (serverOutput.includes(`http://localhost:${port}`)) {
        clearTimeout(timer);
        resolvePromise(`http://127.0.0.1:${port}`);
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`react-router-serve exited (${code}):\n${serverOutput}`));
    });
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** A plain request from Node, recorded with the browser's traffic. */
async function request(path: string, init: RequestInit = {}): Promise<Exchange> {
  const response = await fetch(`${baseUrl}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  const exchange = {
    url: response.url,
    method: init.method ?? 'GET',
    status: response.status,
    headers: JSON.stringify(Object.fromEntries(response.headers)),
    body: await response.text(),
  };
  traffic.push(exchange);
  return exchange;
}

const signedIn = { cookie: 'session=fixture-user' };

const shownToken = () =>
  page.getByTestId('token').getAttribute('data-token').then((token) => token ?? '');

function expiresAtOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
  return payload.exp * 1000;
}

async function waitForTokenOtherThan(previous: string, timeout: number): Promise<string> {
  await page.waitForFunction(
    (old) => {
      const token = document.querySelector('[data-testid="token"]')?.getAttribute('data-token') ?? '';
      return token.startsWith('ey') && token !== old;
    },
    previous,
    { timeout, polling: 50 },
  );
  return shownToken();
}

beforeAll(async () => {
  await copyRecipes(APP, 'react-router-', RECIPES);
  await linkBuiltPackage(APP);
  await rm(join(APP, 'build'), { recursive: true, force: true });
  await rm(join(APP, '.react-router'), { recursive: true, force: true });

  // The recipe's files compile against the built package's types, with React Router's own
  // route types (`./+types/room`), as in an app made from React Router's template.
  const checkEnv = appEnv({});
  await runNode(REACT_ROUTER_BIN, ['typegen'], { cwd: APP, env: checkEnv, timeoutMs: 60_000 });
  await runNode(TSC_BIN, ['-p', 'tsconfig.json'], { cwd: APP, env: checkEnv, timeoutMs: 120_000 });

  const started = Date.now();
  // Values for whatever module the build loads, none of which may reach the output.
  buildOutput = await runNode(REACT_ROUTER_BIN, ['build'], {
    cwd: APP,
    env: appEnv({ CAS_URL: 'https://cas.example.invalid', CAS_API_KEY: buildKey, CAS_API_SECRET: buildSecret }),
    timeoutMs: 240_000,
  });
  console.info(`react-router build took ${((Date.now() - started) / 1000).toFixed(1)} s`);

  mockCas = await startMockCas({ apiKey: `mock-key-${randomUUID()}`, apiSecret: `mock-secret-${randomUUID()}`, lifetimeMs: LIFETIME_MS });
  baseUrl = await serve();

  browser = await launchChromium();
  const { context } = browser;
  await context.addCookies([{ name: 'session', value: 'fixture-user', url: baseUrl }]);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  context.on('request', (sent) => {
    if (new URL(sent.url()).pathname === '/api/cas-token') tokenRequests.push(sent.url());
  });
  context.on('requestfailed', (failed) => failedRequests.push(`${failed.url()}: ${failed.failure()?.errorText}`));
  context.on('response', (response) => {
    const exchange: Exchange = { url: response.url(), method: response.request().method(), status: response.status(), headers: '', body: '' };
    traffic.push(exchange);
    reading.push(
      (async () => {
        exchange.headers = JSON.stringify(await response.allHeaders());
        exchange.body = await response.text().catch(() => '');
      })(),
    );
  });
}, 360_000);

afterAll(async () => {
  await browser?.close();
  await stop(server, 'react-router-serve');
  await mockCas?.close();
});

describe("the React Router recipe (docs/frameworks.md) in a React Router 7 app (react-router build, react-router-serve)", () => {
  it('builds without an error or a warning of its own', () => {
    expect(buildOutput).toMatch(/build\/server\/index\.js/);
    // React Router 7's own notices on every build: its v8 flags, and vite 8 on the option it passes.
    const known = /Future Flag Warning|future\.v8_|reactrouter\.com\/v7\/upgrading|The `envFile` option is deprecated/;
    const problems = buildOutput.split('\n').filter((line) => /error|warn|deprecat|⚠/i.test(line) && !known.test(line));
    expect(problems).toEqual([]);
  });

  it('server-renders the room from the URL with HTTP 200 and the Suspense fallback, then shows a token in the browser', async () => {
    const response = await page.goto(`${baseUrl}/room/movie-night`);

    expect(response?.status()).toBe(200);
    const html = (await response?.text()) ?? '';
    expect(html).toContain('<h1>movie-night</h1>');
    expect(html).toContain('Connecting…');
    const token = await waitForTokenOtherThan('', 15_000);
    expect(expiresAtOf(token)).toBeGreaterThan(Date.now());
    expect(tokenRequests).toEqual([`${baseUrl}/api/cas-token?room=movie-night`]);
  });

  it('renews the token before it expires', async () => {
    const first = await shownToken();

    const second = await waitForTokenOtherThan(first, LIFETIME_MS + 5_000);

    expect(Date.now()).toBeLessThan(expiresAtOf(first));
    expect(expiresAtOf(second)).toBeGreaterThan(expiresAtOf(first));
  });

  it("fetches a room's token in clientLoader on a navigation: the room shows its token at once, never the fallback", async () => {
    await page.goto(`${baseUrl}/`);
    // Hydrated (React's props on the link), so the click is React Router's navigation.
    await page.waitForFunction(() => Object.keys(document.querySelector('a') ?? {}).some((key) => key.startsWith('__reactProps$')));
    await page.evaluate(() => {
      const record = window as unknown as { fallbackSeen: boolean };
      record.fallbackSeen = false;
      new MutationObserver(() => {
        if (document.body.textContent?.includes('Connecting…')) record.fallbackSeen = true;
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const requestsBefore = tokenRequests.length;

    await page.getByRole('link', { name: 'Anime club' }).click();
    await waitForTokenOtherThan('', 15_000);

    expect(new URL(page.url()).pathname).toBe('/room/anime-club');
    expect(await page.evaluate(() => (window as unknown as { fallbackSeen: boolean }).fallbackSeen)).toBe(false);
    // The prefetched token is the provider's: one request.
    expect(tokenRequests.slice(requestsBefore)).toEqual([`${baseUrl}/api/cas-token?room=anime-club`]);
  });

  it('sends a signed-out user from the room to sign in', async () => {
    const answer = await request('/room/movie-night');

    expect(answer.status).toBe(302);
    expect(JSON.parse(answer.headers)).toMatchObject({ location: '/sign-in' });
  });

  it("answers through the recipe's resource route: a token, 401 without the app's session, 405 JSON to a POST", async () => {
    const token = await request('/api/cas-token?room=movie-night', { headers: signedIn });
    expect(token.status).toBe(200);
    expect(JSON.parse(token.body)).toEqual(expect.objectContaining({ token: expect.stringMatching(/^ey/), expiresIn: expect.any(Number) }));

    const refused = await request('/api/cas-token?room=movie-night');
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'unauthorized' });

    const posted = await request('/api/cas-token?room=movie-night', { method: 'POST', headers: signedIn, body: '' });
    expect(posted.status).toBe(405);
    expect(JSON.parse(posted.body)).toEqual({ error: 'method-not-allowed', message: 'Ask for a token with GET.' });
    expect(JSON.parse(posted.headers)).toMatchObject({ allow: 'GET, HEAD' });
    expect(serverOutput).toMatch(/POST \/api\/cas-token\?room=movie-night 405/);
  });

  it('logs no error or stack trace on the server and none in the page (no React #419), and no request fails', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleProblems).toEqual([]);
    expect(serverOutput).toMatch(/GET \/room\/movie-night 200/);
    expect(serverOutput).not.toMatch(/error|warn|\n\s+at /i);
    expect(failedRequests).toEqual([]);
    const unexpected = traffic.filter((exchange) => exchange.status >= 400 && exchange.url.startsWith(baseUrl) && !exchange.url.includes('/api/cas-token'));
    expect(unexpected).toEqual([]);
  });

  it('never lets the CAS key or secret reach build/client, a response or the log', async () => {
    await Promise.all(reading);
    const files = await listFiles(join(APP, 'build/client'));
    const bundle = (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('\n');
    const everything = [bundle, serverOutput, buildOutput, ...traffic.flatMap((exchange) => [exchange.url, exchange.headers, exchange.body])].join('\n');

    // What is searched is the real thing: the client code and the token answers are in it.
    expect(bundle).toContain('/api/cas-token');
    const tokenAnswers = traffic.filter((exchange) => exchange.url.includes('/api/cas-token') && exchange.body.includes('"token"'));
    expect(tokenAnswers.length).toBeGreaterThanOrEqual(4); // three in the browser, one from Node
    for (const secret of [buildSecret, buildKey, mockCas.apiSecret, mockCas.apiKey]) expect(everything).not.toContain(secret);
  });
});
