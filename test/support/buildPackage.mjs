// Builds entries of the package from a `src` folder with vite, as ES modules without types: the
// current source for the child processes of the unit tests (test/server/faultKit.tsx), and an
// older commit's source for the bench's "before" (bench/faultsBefore.mjs). The way
// bench/client/crossTabCost.mjs builds the client from src.
//
// As a script: node test/support/buildPackage.mjs <srcDir> <outDir> [entry ...]
// prints the built files' paths, one JSON object on the last line.
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';

/** Where each entry of the package starts, inside `src`. */
const ENTRIES = { index: 'index.ts', server: 'server/index.ts', testing: 'testing/index.ts' };

/**
 * Builds `entries` of the package in `srcDir` into `outDir` (`<entry>.js`). `external` names what
 * the bundles import rather than hold: by default the peers and `node:` built-ins, so the client
 * shares the app's React and react-query (the bundles must then live where those resolve: inside
 * the repository); jwt-decode is bundled.
 */
export async function buildPackage({
  srcDir,
  outDir,
  entries = ['index', 'server'],
  external = [/^react($|\/)/, /^react-dom($|\/)/, /^@tanstack\/react-query($|\/)/, /^node:/],
}) {
  const entry = Object.fromEntries(entries.map((name) => [name, join(srcDir, ENTRIES[name])]));
  await build({
    configFile: false,
    root: srcDir,
    logLevel: 'silent',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      lib: { entry, formats: ['es'], fileName: (_format, name) => `${name}.js` },
      rollupOptions: {
        external,
        onwarn(warning, warn) {
          if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
          warn(warning);
        },
      },
    },
  });
  return Object.fromEntries(entries.map((name) => [name, join(outDir, `${name}.js`)]));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [srcDir, outDir, ...entries] = process.argv.slice(2);
  if (!srcDir || !outDir) throw new Error('usage: node test/support/buildPackage.mjs <srcDir> <outDir> [entry ...]');
  const built = await buildPackage({ srcDir: resolve(srcDir), outDir: resolve(outDir), ...(entries.length > 0 && { entries }) });
  console.log(JSON.stringify(built));
}
