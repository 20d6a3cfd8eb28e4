/*
 * The README's quickstart, run as printed. test/readme/quickstart/casToken.ts and WatchParty.tsx
 * must be the README's blocks byte for byte (so typecheck and lint cover the printed code too);
 * auth.ts and VideoCall.tsx are what the recipe leaves to the app. The server file (the real
 * handler, calling a CAS on 127.0.0.1 with the secret from the environment) answers the browser's
 * requests, which MSW routes to it, and the client file renders what a user sees: the video when
 * signed in, why not when signed out or refused the room.
 */
import { readFileSync } from 'node:fs';
import type { ComponentType } from 'react';
import { render, screen } from '@testing-library/react';
import { http, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CasTokenHandler } from 'react-cas-token/server';
import type { MockCas } from '../../example/server/mockCas';
import { API_KEY, API_SECRET, payloadOf, startCas } from '../server/casTestKit';
import { recipe } from '../support/recipes';
import { signIn } from './quickstart/auth';

const FILES = { 'quickstart-server': 'casToken.ts', 'quickstart-client': 'WatchParty.tsx' };

const server = setupServer();
let cas: MockCas;
let casToken: CasTokenHandler;
let WatchParty: ComponentType<{ room: string }>;

beforeAll(async () => {
  cas = await startCas({ lifetimeMs: 3_600_000 });
  vi.stubEnv('CAS_URL', cas.url);
  vi.stubEnv('CAS_API_KEY', API_KEY);
  vi.stubEnv('CAS_API_SECRET', API_SECRET);
  // Loaded once the environment is set: the handler reads it when the module loads.
  ({ casToken } = await import('./quickstart/casToken'));
  ({ WatchParty } = await import('./quickstart/WatchParty'));

  server.listen({ onUnhandledRequest: 'error' });
  server.use(
    // The browser's request goes to the quickstart's handler, as a route at /api/cas-token would;
    // the handler's own request to CAS goes through (MSW sees every fetch of this process).
    http.all('/api/cas-token', ({ request }) => casToken(request)),
    http.all(`${cas.url}/*`, () => passthrough()),
  );
});

afterEach(() => signIn(null));

afterAll(async () => {
  server.close();
  vi.unstubAllEnvs();
  await cas?.close();
});

describe('the README quickstart, run as printed', () => {
  it.each(Object.entries(FILES))('prints %s exactly as test/readme/quickstart/%s', (name, file) => {
    const printed = recipe(name);
    expect(printed.page).toBe('README.md');
    expect(printed.code).toBe(readFileSync(`${import.meta.dirname}/quickstart/${file}`, 'utf8'));
    // The block says which file it is.
    expect(printed.code.split('\n', 1)[0]).toMatch(new RegExp(`^// ${file.replace('.', '\\.')}\\b`));
  });

  it('shows a signed-in user the video, with a token CAS issued', async () => {
    signIn('alice');
    render(<WatchParty room="movie-night" />);

    expect(screen.getByText('Connecting…')).toBeTruthy();
    const token = (await screen.findByTestId('video-call')).textContent!;
    expect(payloadOf(token)).toMatchObject({ exp: expect.any(Number) });
  });

  it('gives two participants of one room the same token, with one CAS call', async () => {
    signIn('bob');
    const before = cas.calls;
    render(
      <>
        <WatchParty room="book-club" />
        <WatchParty room="book-club" />
      </>,
    );

    const [first, second] = await screen.findAllByTestId('video-call');
    expect(first!.textContent).toBe(second!.textContent);
    expect(cas.calls - before).toBe(1);
  });

  it('tells a signed-out user why they cannot join', async () => {
    // A room of its own: the module's fetcher keeps one cache for every test, as for a page.
    render(<WatchParty room="quiz-night" />);

    expect(await screen.findByText(/^Cannot join: .*HTTP 401.*is the user signed in\?$/)).toBeTruthy();
  });

  it('tells a signed-in user refused the room that it is not for them, rather than to sign in', async () => {
    signIn('carol');
    render(<WatchParty room="staff-meeting" />);

    expect(await screen.findByText(/^Cannot join: .*HTTP 403.*the user may not join this room\.$/)).toBeTruthy();
  });
});
