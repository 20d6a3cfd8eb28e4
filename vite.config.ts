import { defineConfig } from 'vite';
import dts from 'vite-plugin-dts';

// The package's runtime dependencies and peers stay imports: the app brings its own copies.
const external = [/^react($|\/)/, /^react-dom($|\/)/, /^@tanstack\/react-query($|\/)/, /^jwt-decode$/, /^node:/];

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
      onwarn(warning, warn) {
        // The bundler keeps an entry's 'use client' (test/build checks it) but warns anyway.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('"use client"')) return;
        warn(warning);
      },
    },
  },
  plugins: [
    dts({
      tsconfigPath: './tsconfig.build.json',
      entryRoot: 'src',
      outDirs: ['dist', { dir: 'dist', moduleFormat: 'cjs' }],
      // The plugin only logs type errors in the declarations; a package with broken types must
      // not build.
      afterDiagnostic(diagnostics) {
        if (diagnostics.length > 0) throw new Error(`${diagnostics.length} type error(s) in the declarations: see above.`);
      },
    }),
  ],
});
