// @vitest-environment node
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const APP = join(ROOT, 'test/fixtures/jest-app');
const JEST_BIN = join(ROOT, 'node_modules/jest/bin/jest.js');
const JEST_TIMEOUT_MS = 180_000;

/**
 * The Jest recipes (docs/testing.md) are this Jest project's files (test/testing/readmeRecipes.test.ts
 * checks the page prints them byte for byte): its config and its two test files.
 */
const RECIPES = {
  config: 'test/fixtures/jest-app/jest.config.mjs',
  testingLibrary: 'test/fixtures/jest-app/testingLibrary.test.tsx',
  msw: 'test/fixtures/jest-app/msw.test.tsx',
};
const TEST_FILES = [RECIPES.testingLibrary, RECIPES.msw];

interface JestResult {
  success: boolean;
  numTotalTestSuites: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; status: string; message: string; assertionResults: { title: string; status: string }[] }[];
}

let scratch: string;
let result: JestResult;
let output = '';
let seconds = 0;

/** The titles of the top-level `it(...)` calls in a recipe: the tests Jest must report. */
async function titlesIn(file: string): Promise<string[]> {
  const source = await readFile(join(ROOT, file), 'utf8');
  return [...source.matchAll(/^it\('(.+?)', /gm)].map((match) => match[1]!);
}

function runJest(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [JEST_BIN, ...args], { cwd: APP, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Jest did not finish within ${JEST_TIMEOUT_MS / 1000} s:\n${output}`));
    }, JEST_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

beforeAll(async () => {
  for (const file of ['dist/index.cjs', 'dist/testing.cjs']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first (\`npm test\` does).`);
  }
  // Installed as an app installs it: a package named react-cas-token whose package.json (so its
  // exports map) and dist are this repository's. Jest, a CommonJS runtime, loads dist/*.cjs.
  const installed = join(APP, 'node_modules/react-cas-token');
  await rm(installed, { recursive: true, force: true });
  await mkdir(installed, { recursive: true });
  await symlink('../../../../../package.json', join(installed, 'package.json'));
  await symlink('../../../../../dist', join(installed, 'dist'), 'dir');

  scratch = await mkdtemp(join(tmpdir(), 'react-cas-token-jest-'));
  const report = join(scratch, 'jest.json');
  const started = Date.now();
  // One process (--runInBand), so the timeout above stops all of it.
  const code = await runJest(['--ci', '--runInBand', '--json', `--outputFile=${report}`]);
  seconds = (Date.now() - started) / 1000;
  console.info(`jest took ${seconds.toFixed(1)} s`);
  if (!existsSync(report)) throw new Error(`Jest wrote no report (exit ${code}):\n${output}`);
  result = JSON.parse(await readFile(report, 'utf8')) as JestResult;
}, JEST_TIMEOUT_MS + 10_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the Jest recipes (docs/testing.md), run by Jest 30 against the built package', () => {
  it('pass, every file and every test of them, none skipped', () => {
    const failures = result.testResults.filter((file) => file.status !== 'passed').map((file) => `${file.name}\n${file.message}`);
    expect(failures, output).toEqual([]);
    expect(result.success).toBe(true);
    expect(result.numFailedTests + result.numPendingTests + result.numTodoTests).toBe(0);
  });

  it('ran exactly the recipe test files', () => {
    expect(result.testResults.map((file) => file.name).sort()).toEqual(TEST_FILES.map((file) => join(ROOT, file)).sort());
    expect(result.numTotalTestSuites).toBe(TEST_FILES.length);
  });

  it.each(TEST_FILES)('ran and passed every test written in %s', async (file) => {
    const titles = await titlesIn(file);
    const ran = result.testResults.find((entry) => entry.name === join(ROOT, file))!;

    expect(titles.length).toBeGreaterThanOrEqual(3);
    expect(ran.assertionResults.map(({ title, status }) => [title, status])).toEqual(titles.map((title) => [title, 'passed']));
  });

  it("runs the Testing Library recipe in Jest's stock jsdom environment, and only the MSW one in MSW's", async () => {
    const config = (await import(join(ROOT, RECIPES.config))) as { default: { testEnvironment: string } };
    const environmentOf = async (file: string) => /@jest-environment (\S+)/.exec(await readFile(join(ROOT, file), 'utf8'))?.[1];

    expect(config.default.testEnvironment).toBe('jsdom');
    expect(await environmentOf(RECIPES.testingLibrary)).toBeUndefined();
    expect(await environmentOf(RECIPES.msw)).toBe('jest-fixed-jsdom');
  });
});
