// @vitest-environment node
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockCas, type MockCas } from '../../example/server/mockCas';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const INSTALL_TIMEOUT_MS = 180_000;
/** What a server-only install must not bring: React and react-query are the client's peers. */
const CLIENT_PACKAGES = ['react', 'react-dom', '@tanstack/react-query', '@tanstack/query-core'];

/** The proxy in a Hono app, as a server-only user writes it; the same body in ESM and in CommonJS. */
const SERVER = `
const casToken = createCasTokenHandler({
  casUrl: process.env.CAS_URL,
  apiKey: process.env.CAS_API_KEY,
  apiSecret: process.env.CAS_API_SECRET,
  authorize: (request) => request.headers.get('cookie') === 'session=alice',
});
const app = new Hono();
app.get('/api/cas-token', (c) => casToken(c.req.raw));
const ask = (headers) => app.request('/api/cas-token?room=movie-night-42', { headers });
const answered = await ask({ cookie: 'session=alice' });
const refused = await ask({});
console.log(JSON.stringify({ loaded: RESOLVED, status: answered.status, body: await answered.json(), refused: refused.status }));
`;
const SCRIPTS = {
  'server.mjs': `import { Hono } from 'hono';
import { createCasTokenHandler } from 'react-cas-token/server';
const RESOLVED = import.meta.resolve('react-cas-token/server');
${SERVER}`,
  'server.cjs': `const { Hono } = require('hono');
const { createCasTokenHandler } = require('react-cas-token/server');
const RESOLVED = require.resolve('react-cas-token/server');
(async () => {${SERVER}})();`,
};

interface ServerRun {
  loaded: string;
  status: number;
  body: { token?: string; expiresIn?: number };
  refused: number;
}

let scratch: string;
let app: string;
let mockCas: MockCas;
let installSeconds = 0;

/** Runs a command with a bound, without the npm_* settings of the `npm test` this may run in. */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<string> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd, env: { ...clean, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

const npm = (args: string[], cwd: string) => run('npm', args, cwd, {}, INSTALL_TIMEOUT_MS);

function serve(script: keyof typeof SCRIPTS): Promise<ServerRun> {
  return run(process.execPath, [script], app, { CAS_URL: mockCas.url, CAS_API_KEY: mockCas.apiKey, CAS_API_SECRET: mockCas.apiSecret }).then(
    (stdout) => JSON.parse(stdout.trim().split('\n').at(-1)!) as ServerRun,
  );
}

beforeAll(async () => {
  for (const file of ['dist/server.js', 'dist/server.cjs']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first (\`npm test\` does).`);
  }
  scratch = await mkdtemp(join(tmpdir(), 'react-cas-token-server-only-'));
  app = join(scratch, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'server-only-app', private: true }));
  for (const [name, source] of Object.entries(SCRIPTS)) await writeFile(join(app, name), source);

  // The package as npm publishes it, installed as `npm i react-cas-token hono` would, with the
  // hono this repository tests with (so npm's cache usually has every tarball).
  const [packed] = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], ROOT)) as { filename: string }[];
  const started = Date.now();
  await npm(
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(scratch, packed!.filename), `hono@${pkg.devDependencies.hono}`],
    app,
  );
  installSeconds = (Date.now() - started) / 1000;
  console.info(`npm install react-cas-token hono took ${installSeconds.toFixed(1)} s`);

  mockCas = await startMockCas({ apiKey: 'server-only-key', apiSecret: 'server-only-secret' });
}, INSTALL_TIMEOUT_MS * 2);

afterAll(async () => {
  await mockCas?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('a server-only install: npm i react-cas-token hono', () => {
  it('installs no React and no react-query, which are optional peers: hono, the package and jwt-decode only', async () => {
    const lock = JSON.parse(await readFile(join(app, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const installed = Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, ''));

    expect(installed.filter((name) => CLIENT_PACKAGES.includes(name))).toEqual([]);
    expect(installed.sort()).toEqual(['hono', 'jwt-decode', 'react-cas-token']);
    expect(CLIENT_PACKAGES.filter((name) => existsSync(join(app, 'node_modules', name)))).toEqual([]);
  });

  it.each(['server.mjs', 'server.cjs'] as const)('serves tokens from react-cas-token/server there (%s)', async (script) => {
    const before = mockCas.requests.length;
    const result = await serve(script);

    expect(result.loaded).toMatch(script === 'server.mjs' ? /\/node_modules\/react-cas-token\/dist\/server\.js$/ : /\/node_modules\/react-cas-token\/dist\/server\.cjs$/);
    expect(result.status).toBe(200);
    expect(result.body.token).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(result.body.expiresIn).toBeGreaterThan(0);
    expect(result.refused).toBe(401);
    // One CAS call, with the app's key and secret; the refused request never reached CAS.
    expect(mockCas.requests.slice(before).map((request) => [request.headers['auth-api-key'], request.headers['auth-api-secret']])).toEqual([
      ['server-only-key', 'server-only-secret'],
    ]);
  }, 60_000);
});
