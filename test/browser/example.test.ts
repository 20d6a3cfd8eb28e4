import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { launchChromium, type LaunchedChromium } from './support/chromium';
import { EXAMPLE_CONFIG, ROOT, startExample, type ExampleServer } from './support/exampleServer';

const SCREENSHOTS = join(ROOT, '.screenshots');
/** Short enough that a renewal happens within seconds, long enough to read the page. */
const LIFETIME_MS = 6_000;

interface Exchange {
  url: string;
  requestHeaders: string;
  status?: number;
  responseHeaders?: string;
  body?: string;
}

let example: ExampleServer;
let context: BrowserContext;
let page: Page;
let baseUrl: string;
let apiKey: string;
let apiSecret: string;
let browser: LaunchedChromium;
const traffic: Exchange[] = [];
const socketFrames: string[] = [];
const pageErrors: string[] = [];
const notFound: string[] = [];

/** The token the page shows, or '' while it holds none. */
const shownToken = () => page.getByTestId('token').getAttribute('data-token').then((token) => token ?? '');

function claimsOf(token: string): { iat: number; exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
}

const expiresAtOf = (token: string) => claimsOf(token).exp * 1000;

/** `epochMs` as the page's clock face shows it (the example's `formatClock`), in the page's locale. */
function clockFaces(target: Page, epochs: number[]): Promise<string[]> {
  return target.evaluate(
    (times) => times.map((ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })),
    epochs,
  );
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

/** Back to a healthy mock CAS whatever a failed test left it in, so the next test starts clean. */
async function healthyMockCas(): Promise<void> {
  const response = await page.request.post(`${baseUrl}api/mock-cas/mode`, { data: { mode: 'ok' } });
  expect(response.status()).toBe(200);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  example = await startExample(LIFETIME_MS);
  baseUrl = example.baseUrl;
  ({ apiKey, apiSecret } = example.mockCas);

  browser = await launchChromium();
  context = browser.context;
  console.info(`Chromium ${context.browser()?.version() ?? ''} from ${browser.found.source}: ${browser.found.executablePath}`);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  // Every exchange with every header and body, to look for the secret in all of them.
  context.on('request', (request) => {
    const exchange: Exchange = { url: request.url(), requestHeaders: '' };
    traffic.push(exchange);
    void request.allHeaders().then((headers) => (exchange.requestHeaders = JSON.stringify(headers)));
    void request.response().then(async (response) => {
      if (!response) return;
      exchange.status = response.status();
      if (exchange.status === 404) notFound.push(exchange.url);
      exchange.responseHeaders = JSON.stringify(await response.allHeaders());
      exchange.body = await response.text().catch(() => '');
    });
  });
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => socketFrames.push(String(payload)));
    socket.on('framesent', ({ payload }) => socketFrames.push(String(payload)));
  });
});

afterAll(async () => {
  await browser?.close();
  await example?.close();
});

describe('the watch-party example in Chromium', () => {
  it('shows a token, its claims and a countdown for the first room', async () => {
    await page.goto(baseUrl);

    await waitForTokenOtherThan('', 15_000);

    await expect.poll(() => page.getByTestId('connection').textContent()).toContain('Connected');
    expect(await page.getByTestId('claims').textContent()).toMatch(/rid.+unct.+issued.+expires/);
    expect(await page.getByTestId('refresh-countdown').textContent()).toMatch(/^\d+\.\d s$/);
    expect(await page.getByTestId('refresh-log').textContent()).toContain('First token');
    // The raw claims as the issuer wrote them; their times on the local clock are another test's.
    const { iat, exp } = claimsOf(await shownToken());
    expect(await page.getByTestId('claims').textContent()).toContain(`iat${iat}`);
    expect(await page.getByTestId('claims').textContent()).toContain(`exp${exp}`);

    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'example.png'), fullPage: true });
  });

  it('renews the token before it expires, with no gap', async () => {
    const first = await shownToken();
    const expiresAt = expiresAtOf(first);

    const second = await waitForTokenOtherThan(first, LIFETIME_MS + 2_000);

    expect(Date.now()).toBeLessThan(expiresAt);
    expect(expiresAtOf(second)).toBeGreaterThan(expiresAt);
    expect(await page.getByTestId('connection').textContent()).toContain('Connected');
    expect(await page.getByTestId('refresh-log').textContent()).toContain('New token');
  });

  it('asks the proxy again when "Refresh now" is pressed, and logs what it brings back', async () => {
    const entries = await page.getByTestId('refresh-log').locator('li').count();
    const before = await shownToken();

    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().includes('/api/cas-token?room=movie-night-42')),
      page.getByTestId('refresh').click(),
    ]);

    expect(response.status()).toBe(200);
    const answer = (await response.json()) as { token: string };
    expect(answer).toEqual({ token: expect.stringMatching(/^ey/), expiresIn: expect.any(Number), refreshIn: expect.any(Number), checkIn: 8_000, seal: expect.any(String) });
    await expect.poll(shownToken).toBe(answer.token);
    // onToken tells of what the app's own refresh() brings back, the room's same token included
    // (a check that confirms it tells nothing).
    await expect.poll(() => page.getByTestId('refresh-log').locator('li').count()).toBe(entries + 1);
    expect(before).toMatch(/^ey/);
    expect(await page.getByTestId('connection').textContent()).toMatch(/Connected|Refreshing/);
  });

  it('gives another room its own token when the room changes', async () => {
    const before = await shownToken();

    await page.getByRole('button', { name: /Anime club/ }).click();
    const token = await waitForTokenOtherThan(before, 10_000);

    expect(token).not.toBe(before);
    expect(await page.getByRole('heading', { level: 2, name: 'Anime club' }).isVisible()).toBe(true);
    expect(await page.getByTestId('refresh-log').locator('li').first().textContent()).toContain('anime-club');
  });

  it('shows the error panel while the mock CAS fails, and recovers on its own once it is healthy', async () => {
    onTestFinished(healthyMockCas);
    await page.locator('[data-mode="error"]').click();

    const panel = page.getByTestId('error-panel');
    await panel.waitFor({ state: 'visible', timeout: LIFETIME_MS * 2 });
    expect(await panel.getAttribute('data-code')).toBe('http');
    expect(await panel.textContent()).toContain('HTTP 502');
    // While failing, a countdown to the next automatic retry (the provider's `retryAt`).
    await expect.poll(() => page.getByTestId('next-retry').textContent()).toMatch(/^Next retry in \d+\.\d s$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'example-error.png'), fullPage: true });

    await page.locator('[data-mode="ok"]').click();

    // Retried with backoff (at most 8 s by now) and no click on the page.
    await panel.waitFor({ state: 'detached', timeout: 20_000 });
    await waitForTokenOtherThan('', 5_000);
    expect(await page.getByTestId('connection').textContent()).toContain('Connected');
  });

  it('says the token expired and is being renewed while a renewal hangs, then counts down to the next retry', async () => {
    onTestFinished(healthyMockCas);
    const held = await waitForTokenOtherThan('', 10_000);
    await page.locator('[data-mode="hang"]').click();

    // The renewal waits on the proxy, which waits up to 10 s on the hanging CAS: the token expires meanwhile.
    const noToken = page.getByTestId('no-token');
    await noToken.waitFor({ state: 'visible', timeout: LIFETIME_MS + 5_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAtOf(held) - 1_000);
    expect(await noToken.textContent()).toMatch(/^The token expired at .+; renewing…$/);
    expect(await page.getByTestId('connection').textContent()).toContain('Renewing');
    await page.screenshot({ path: join(SCREENSHOTS, 'example-renewing.png'), fullPage: true });

    // The proxy's 504 (its CAS timeout, shorter than the client's) ends the wait: a countdown to the next try.
    const panel = page.getByTestId('error-panel');
    await panel.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await panel.textContent()).toContain('cas-timeout');
    await expect.poll(() => noToken.textContent()).toMatch(/^The token expired at .+\. Next retry in \d+\.\d s$/);
    expect(await page.getByTestId('connection').textContent()).toContain('Disconnected');

    await page.locator('[data-mode="ok"]').click();
    await panel.waitFor({ state: 'detached', timeout: 30_000 });
    await waitForTokenOtherThan('', 5_000);
  });

  it("shows claim times on the local clock, however far it is from the issuer's", async () => {
    const skew = 60 * 60_000;
    const skewed = await context.newPage();
    skewed.on('pageerror', (error) => pageErrors.push(String(error)));
    // This page's clock runs an hour ahead of the mock CAS's.
    await skewed.addInitScript((ahead) => {
      const RealDate = Date;
      class AheadDate extends RealDate {
        constructor(...args: unknown[]) {
          if (args.length === 0) super(RealDate.now() + ahead);
          else super(...(args as [string]));
        }
        static override now() {
          return RealDate.now() + ahead;
        }
      }
      globalThis.Date = AheadDate as DateConstructor;
    }, skew);
    await skewed.goto(baseUrl);
    await skewed.locator('[data-testid="token"][data-token^="ey"]').waitFor({ timeout: 15_000 });

    const { iat, exp } = claimsOf((await skewed.getByTestId('token').getAttribute('data-token'))!);
    const issued = await skewed.getByTestId('issued').textContent();
    const expires = await skewed.getByTestId('expires').textContent();
    // Issued on the page's clock: the issuer's `iat` plus the skew, give or take the second it took.
    expect(await clockFaces(skewed, [-1_000, 0].map((d) => iat * 1000 + skew + d))).toContain(issued);
    expect(await clockFaces(skewed, [-1_000, 0].map((d) => exp * 1000 + skew + d))).toContain(expires);
    expect(await clockFaces(skewed, [iat * 1000])).not.toContain(issued);
    await skewed.close();
  });

  it('loads without a single 404, a favicon included', async () => {
    expect(notFound).toEqual([]);
    // Browsers ask for /favicon.ico unless the page names its icon; the named one is served.
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    expect(icon).toBeTruthy();
    const served = await page.request.get(new URL(icon!, baseUrl).href);
    expect(served.status()).toBe(200);
    expect(served.headers()['content-type']).toMatch(/^image\//);
  });

  it('is readable at a phone width', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(baseUrl);
    await phone.locator('[data-testid="token"][data-token^="ey"]').waitFor({ timeout: 15_000 });

    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await phone.screenshot({ path: join(SCREENSHOTS, 'example-phone.png'), fullPage: true });
    await phone.close();
  });

  it('throws no uncaught error in the page', () => {
    expect(pageErrors).toEqual([]);
  });

  it('never lets the API key or secret reach the page or its network traffic', async () => {
    const html = await page.content();
    const tokenAnswers = traffic.filter((exchange) => exchange.url.includes('/api/cas-token') && exchange.body?.includes('"token"'));
    const everything = [
      html,
      ...traffic.flatMap((exchange) => [exchange.url, exchange.requestHeaders, exchange.responseHeaders ?? '', exchange.body ?? '']),
      ...socketFrames,
    ].join('\n');

    // The record is not empty: the page's own code and its token answers are in it.
    expect(tokenAnswers.length).toBeGreaterThanOrEqual(4);
    expect(everything).toContain('createProxyFetcher');
    expect(everything).not.toContain(apiSecret);
    expect(everything).not.toContain(apiKey);
  });

  it('never puts CAS settings from the environment into the built example', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'react-cas-token-example-build-'));
    const canary = `canary-secret-${Date.now()}`;
    process.env.CAS_URL = 'https://cas.example.com';
    process.env.CAS_API_KEY = 'canary-key';
    process.env.CAS_API_SECRET = canary;
    try {
      await build({ configFile: EXAMPLE_CONFIG, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
      const files = await listFiles(outDir);
      const bundle = (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('\n');

      expect(files.some((file) => file.endsWith('.js'))).toBe(true);
      expect(bundle).toContain('/api/cas-token');
      for (const secret of [canary, 'canary-key', apiSecret, apiKey]) expect(bundle).not.toContain(secret);
    } finally {
      example.restoreEnv();
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
