// @vitest-environment node
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, startCas } from './casTestKit';
import { recipe } from '../support/recipes';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let cas: MockCas;
let dir: string;
let started: Server[];
let base: string;

beforeEach(async () => {
  cas = await startCas({ lifetimeMs: 3_600_000 });
  // Inside the repository, so the recipe's imports resolve as in an app that installed them.
  dir = join(import.meta.dirname, `.recipe-${randomUUID()}`);
  mkdirSync(dir);
  started = [];
  // The recipes start their own servers; keep a handle on them to stop them afterwards.
  const listen = Server.prototype.listen;
  vi.spyOn(Server.prototype, 'listen').mockImplementation(function (this: Server, ...args: unknown[]) {
    started.push(this);
    return listen.apply(this, args as Parameters<Server['listen']>);
  });
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  vi.stubEnv('PORT', String(port));
  vi.stubEnv('CAS_URL', cas.url);
  vi.stubEnv('CAS_API_KEY', API_KEY);
  vi.stubEnv('CAS_API_SECRET', API_SECRET);
});

afterEach(async () => {
  for (const server of started) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
  await cas.close();
});

/** Writes the recipe out and imports it, which starts its server; resolves once it listens. */
async function run(name: string): Promise<void> {
  const { language, code } = recipe(name);
  const file = join(dir, `${name}.${language === 'ts' ? 'ts' : 'mjs'}`);
  writeFileSync(file, code);
  await import(/* @vite-ignore */ file);
  await vi.waitFor(() => expect(started.some((server) => server.listening)).toBe(true));
}

function get(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${path}`, init);
}

describe('the Hono recipe (docs/frameworks.md), run as written', () => {
  it('serves a signed-in user a token, with refreshIn, and answers HEAD like GET', async () => {
    await run('hono');
    const response = await get('/api/cas-token?room=movie-night', { headers: { cookie: 'session=alice' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ token: expect.stringMatching(/^ey/), expiresIn: expect.any(Number), refreshIn: expect.any(Number), checkIn: 8_000, seal: expect.any(String) });

    const head = await get('/api/cas-token?room=movie-night', { method: 'HEAD', headers: { cookie: 'session=alice' } });
    expect([head.status, await head.text()]).toEqual([200, '']);
    expect(cas.calls).toBe(1);
  });

  it('answers 401 to a request without a session, and 403 to a signed-in user who may not join the room', async () => {
    await run('hono');
    const signedOut = await get('/api/cas-token?room=movie-night');
    expect([signedOut.status, (await signedOut.json()).error]).toEqual([401, 'unauthorized']);
    const denied = await get('/api/cas-token?room=staff-meeting', { headers: { cookie: 'session=alice' } });
    expect([denied.status, (await denied.json()).error]).toEqual([403, 'forbidden']);
    expect((await get('/api/cas-token?room=staff-meeting', { headers: { cookie: 'session=staff.bob' } })).status).toBe(200);
    expect(cas.calls).toBe(1);
  });

  it('rate-limits a user to 10 token requests a minute with a 429 and Retry-After', async () => {
    await run('hono');
    const statuses: number[] = [];
    for (let request = 0; request < 11; request += 1) {
      statuses.push((await get('/api/cas-token?room=movie-night', { headers: { cookie: 'session=carol' } })).status);
    }
    expect(statuses).toEqual([...Array.from({ length: 10 }, () => 200), 429]);
    const limited = await get('/api/cas-token?room=movie-night', { headers: { cookie: 'session=carol' } });
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toEqual({ error: 'rate-limited', message: expect.any(String) });
    expect((await get('/api/cas-token?room=movie-night', { headers: { cookie: 'session=dave' } })).status).toBe(200);
  });
});

describe('the Express recipe (docs/frameworks.md), run as written', () => {
  it('serves a signed-in user a token, refuses one who is not, and answers HEAD like GET', async () => {
    await run('express');
    const response = await get('/api/cas-token?room=movie-night', { headers: { cookie: 'session=abc' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ token: expect.stringMatching(/^ey/), expiresIn: expect.any(Number), refreshIn: expect.any(Number), checkIn: 8_000, seal: expect.any(String) });
    expect(await (await get('/api/cas-token?room=movie-night')).json()).toEqual({ error: 'unauthorized', message: 'Sign in first.' });

    const head = await get('/api/cas-token?room=movie-night', { method: 'HEAD', headers: { cookie: 'session=abc' } });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const post = await get('/api/cas-token?room=movie-night', { method: 'POST', headers: { cookie: 'session=abc' } });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect(cas.calls).toBe(1);
  });
});

describe('the server recipes', () => {
  it.each(['next-route', 'next-route-lazy', 'hono', 'express'])('has a %s recipe with no `export const dynamic` line', (name) => {
    expect(recipe(name).code).not.toMatch(/export const dynamic/);
  });
});
