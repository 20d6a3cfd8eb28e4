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
    limit: '6.6 kB',
  },
  {
    name: 'react-cas-token/server',
    path: 'dist/server.js',
    ignore: peers,
    gzip: true,
    limit: '4.7 kB',
  },
  {
    name: 'react-cas-token/testing',
    path: 'dist/testing.js',
    ignore: peers,
    gzip: true,
    limit: '6 kB',
  },
  {
    name: 'react-cas-token (client) with @tanstack/react-query',
    path: 'dist/index.js',
    gzip: true,
    modifyEsbuildConfig: bundleReactQuery,
    limit: '16.4 kB',
  },
];
