// @vitest-environment node
/*
 * The Vite dev-server recipe (docs/frameworks.md), run as printed: its vite.config.ts in a folder
 * of its own with the CAS variables in `.env.local`, served by Vite's own dev server. The config
 * imports `react-cas-token/server` by name, which Node resolves to this repository's built package
 * (a package may import itself by its name), so this runs against dist.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createServer, resolveConfig, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, startCas } from '../server/casTestKit';
import { recipe } from '../support/recipes';

const ROOT = resolve(import.meta.dirname, '../..');
// Inside the repository, so the config's imports resolve as in an app that installed them.
const dir = join(import.meta.dirname, `.vite-recipe-${randomUUID()}`);
const startedIn = process.cwd();
let cas: MockCas;
let server: ViteDevServer;
let base: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` first (`npm test` does).');
  const printed = recipe('vite-dev-server');
  expect(printed.code.split('\n', 1)[0]).toBe('// vite.config.ts');
  cas = await startCas({ lifetimeMs: 3_600_000 });
  await mkdir(dir);
  await writeFile(join(dir, 'vite.config.ts'), printed.code);
  await writeFile(join(dir, '.env.local'), `CAS_URL=${cas.url}\nCAS_API_KEY=${API_KEY}\nCAS_API_SECRET=${API_SECRET}\n`);
  await writeFile(join(dir, 'index.html'), '<!doctype html><div id="root"></div>\n');
  // The recipe reads .env files from process.cwd(), as `vite` run in the app's folder does.
  process.chdir(dir);
  server = await createServer({ configFile: join(dir, 'vite.config.ts'), root: dir, logLevel: 'silent', server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const address = server.httpServer!.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
}, 60_000);

afterAll(async () => {
  process.chdir(startedIn);
  await server?.close();
  await cas?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the Vite dev-server recipe, run as printed', () => {
  it('serves a token from the dev server, with the CAS settings from .env.local', async () => {
    const response = await fetch(`${base}/api/cas-token?room=movie-night`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ token: expect.stringMatching(/^ey/), expiresIn: expect.any(Number), refreshIn: expect.any(Number), checkIn: 8_000, seal: expect.any(String) });
    expect(cas.calls).toBe(1);
  });

  it('answers the handler’s own errors through the Node adapter: a missing room, a POST', async () => {
    const noRoom = await fetch(`${base}/api/cas-token`);
    expect([noRoom.status, (await noRoom.json()).error]).toEqual([400, 'invalid-room']);
    const post = await fetch(`${base}/api/cas-token?room=movie-night`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('is left out of `vite build` (apply: serve)', async () => {
    const built = await resolveConfig({ configFile: join(dir, 'vite.config.ts'), root: dir, logLevel: 'silent' }, 'build');
    const served = await resolveConfig({ configFile: join(dir, 'vite.config.ts'), root: dir, logLevel: 'silent' }, 'serve');

    expect(served.plugins.map((plugin) => plugin.name)).toContain('cas-token-endpoint');
    expect(built.plugins.map((plugin) => plugin.name)).not.toContain('cas-token-endpoint');
  });
});
