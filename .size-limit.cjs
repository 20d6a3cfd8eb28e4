// Size budgets for what users install: each built entry bundled, minified and gzipped.
// Peers (react, @tanstack/react-query) are left out, as the app brings its own; jwt-decode is a
// dependency, so it counts. Budgets sit a little above the measured sizes: they catch regressions.
// `npm run bench` prints the measured figures.
const peers = ['react', 'react-dom', '@tanstack/react-query'];

/** The client entry again, with react-query bundled: what the token hook costs an app that has no react-query yet. */
function bundleReactQuery(config) {
  config.external = ['react', 'react-dom'];
  return config;
}

module.exports = [
  {
    name: 'react-cas-token (client, jwt-decode included)',
    path: 'dist/index.js',
    ignore: peers,
    gzip: true,
    // 0.2 kB of it since isClientOnlyBailout and the refusal to prefetch on a server, mostly their
    // messages; about 0.9 kB since a party stays one session through faults (checks with the seal,
    // the retry policy that follows the proxy, a stolen lock giving its request up).
    limit: '9.0 kB',
  },
  {
    name: 'react-cas-token/server',
    path: 'dist/server.js',
    ignore: peers,
    gzip: true,
    // Runs on a server: bounded waits, the store protocol and messages a person can act on
    // outweigh bytes here. Still a guard against regressions.
    limit: '14.2 kB',
  },
  {
    // What a one-process app imports: the Redis store is left out by tree-shaking.
    name: 'react-cas-token/server, handler with the memory store',
    path: 'dist/server.js',
    import: '{ casTokenHandlerFromEnv, createMemoryTokenStore }',
    gzip: true,
    // Seals, the store's clock, the lock's lease, the CAS probe and fresh calls beside a hung one: about 2 kB.
    limit: '11.0 kB',
  },
  {
    name: 'react-cas-token/server, createRedisTokenStore alone',
    path: 'dist/server.js',
    import: '{ createRedisTokenStore }',
    gzip: true,
    // About half of it is the maxmemory-policy check and its warnings (1.27 kB).
    limit: '3.3 kB',
  },
  {
    // Imported by tests and stories only, never by an app's bundle. It bundles the client (with
    // cross-tab sharing), plus the network mock of the proxy (~1.0 kB), setupFakeTimers
    // (~0.65 kB) and the shared mock engine with its option checks (~0.7 kB).
    name: 'react-cas-token/testing',
    path: 'dist/testing.js',
    ignore: peers,
    gzip: true,
    limit: '10.8 kB',
  },
  {
    name: 'react-cas-token (client) with @tanstack/react-query',
    path: 'dist/index.js',
    gzip: true,
    modifyEsbuildConfig: bundleReactQuery,
    limit: '18.9 kB',
  },
];
