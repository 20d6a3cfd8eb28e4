import { defineConfig } from 'vite';

const src = `${import.meta.dirname}/../src`;

// The stories import the package by name, as an app's do; here the names map to the source.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^react-cas-token\/testing$/, replacement: `${src}/testing/index.ts` },
      { find: /^react-cas-token$/, replacement: `${src}/index.ts` },
    ],
  },
});
