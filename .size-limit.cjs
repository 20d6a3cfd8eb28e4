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
    limit: '7.8 kB',
  },
  {
    name: 'react-cas-token/server',
    path: 'dist/server.js',
    ignore: peers,
    gzip: true,
    // Runs on a server: bounded waits, the store protocol and messages a person can act on
    // outweigh bytes here (the hint for a setting missing at build time is ~0.16 kB). Still a
    // guard against regressions.
    limit: '10 kB',
  },
  {
    // What a one-process app imports: the Redis store is left out by tree-shaking.
    name: 'react-cas-token/server, handler with the memory store',
    path: 'dist/server.js',
    import: '{ casTokenHandlerFromEnv, createMemoryTokenStore }',
    gzip: true,
    limit: '8.4 kB',
  },
  {
    name: 'react-cas-token/server, createRedisTokenStore alone',
    path: 'dist/server.js',
    import: '{ createRedisTokenStore }',
    gzip: true,
    limit: '1.7 kB',
  },
  {
    // Imported by tests and stories only, never by an app's bundle. It bundles the client (with
    // cross-tab sharing), plus the network mock of the proxy (~1.0 kB), setupFakeTimers
    // (~0.65 kB) and the shared mock engine with its option checks (~0.7 kB).
    name: 'react-cas-token/testing',
    path: 'dist/testing.js',
    ignore: peers,
    gzip: true,
    limit: '9.7 kB',
  },
  {
    name: 'react-cas-token (client) with @tanstack/react-query',
    path: 'dist/index.js',
    gzip: true,
    modifyEsbuildConfig: bundleReactQuery,
    limit: '17.7 kB',
  },
];
