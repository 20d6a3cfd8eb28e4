import { expect, it } from 'vitest';
import { createCasTokenHandler } from 'react-cas-token/server';
import { createTestToken } from 'react-cas-token/testing';
import { report } from '../report';

const ROOMS = 100_000;
const CHECKPOINT = 10_000;

/** vitest starts this file's worker with --expose-gc (bench/vitest.config.ts). */
function heapAfterGc(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('Run node with --expose-gc.');
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

it(`keeps the heap bounded after ${ROOMS.toLocaleString('en-US')} distinct rooms`, async () => {
  // CAS answers at once in memory: this measures the store, not sockets.
  const casFetch: typeof fetch = async () =>
    Response.json({ token: createTestToken({ lifetimeMs: 3_600_000 }) });
  const handler = createCasTokenHandler({
    casUrl: 'http://127.0.0.1:9',
    apiKey: 'bench-key',
    apiSecret: 'bench-secret',
    fetch: casFetch,
    logger: { warn: () => {}, error: () => {} },
  });
  let refused = 0;
  const ask = async (room: number) => {
    const response = await handler(new Request(`http://127.0.0.1/api/cas-token?room=room-${room}`));
    // Past its 10,000 places the store refuses new rooms rather than drop one in use.
    if (response.status === 503) refused += 1;
    else if (response.status !== 200) throw new Error(`The handler answered ${response.status}.`);
    await response.arrayBuffer();
  };

  const baseline = heapAfterGc();
  let atCheckpoint = 0;
  for (let room = 0; room < ROOMS; room += 1_000) {
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => ask(room + i)));
    if (room + 1_000 === CHECKPOINT) atCheckpoint = heapAfterGc() - baseline;
  }
  const after = heapAfterGc() - baseline;

  // The same tokens in a plain Map: what a cache without a bound would hold. They go through
  // JSON as the handler's do, so they are flat strings like the ones it keeps.
  const unbounded = new Map<string, string>();
  const mapBaseline = heapAfterGc();
  for (let room = 0; room < ROOMS; room++) {
    const { token } = (await (await casFetch('http://127.0.0.1:9')).json()) as { token: string };
    unbounded.set(`room-${room}`, token);
  }
  const unboundedBytes = heapAfterGc() - mapBaseline;

  report({
    section: 'memory',
    label: `heap growth after ${ROOMS.toLocaleString('en-US')} distinct rooms through the handler's in-memory store`,
    value: mb(after),
    against: `after the first ${CHECKPOINT.toLocaleString('en-US')}: ${mb(atCheckpoint)} (the store keeps 10,000 rooms by default and refused the other ${refused.toLocaleString('en-US')}); the same tokens in an unbounded Map: ${mb(unboundedBytes)}`,
    ok: after < atCheckpoint * 1.5 + 2 * 1024 * 1024,
  });
  expect(unbounded.size).toBe(ROOMS);
  expect(refused).toBe(ROOMS - CHECKPOINT);
  expect(after).toBeLessThan(unboundedBytes);
});
