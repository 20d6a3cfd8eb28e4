import { defineConfig } from 'vite';
import dts from 'vite-plugin-dts';

// The package's runtime dependencies and peers stay imports: the app brings its own copies.
const external = [/^react($|\/)/, /^react-dom($|\/)/, /^@tanstack\/react-query($|\/)/, /^jwt-decode$/, /^node:/];

// Entries a React Server Components bundler must treat as client code.
const clientEntries = new Set(['index', 'testing']);

export default defineConfig({
  build: {
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: {
        index: 'src/index.ts',
        server: 'src/server/index.ts',
        testing: 'src/testing/index.ts',
      },
      formats: ['es', 'cjs'],
      fileName: (format, entryName) => `${entryName}.${format === 'es' ? 'js' : 'cjs'}`,
    },
    rollupOptions: {
      external,
      output: {
        // Bundlers drop module-level directives, so the build writes it back on the client entries.
        banner: (chunk) => (chunk.isEntry && clientEntries.has(chunk.name) ? "'use client';" : ''),
      },
    },
  },
  plugins: [
    dts({
      tsconfigPath: './tsconfig.build.json',
      entryRoot: 'src',
      outDirs: ['dist', { dir: 'dist', moduleFormat: 'cjs' }],
    }),
  ],
});
