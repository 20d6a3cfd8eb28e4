// The package as it was before issue 17 (the last commit before its work), for the faults
// bench's "before": that commit's src, read with `git show`, built by vite
// (test/support/buildPackage.mjs) into bench/.before/<commit>/ (git-ignored), once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildPackage } from '../test/support/buildPackage.mjs';

export const BEFORE_COMMIT = '5f3bfd6';

/**
 * The folder holding the "before" build's `index.js` and `server.js`, built if missing; or
 * `{ missing }` saying why there is none (no git, or a clone without that commit).
 */
export async function buildBefore(root) {
  const dir = join(root, 'bench', '.before', BEFORE_COMMIT);
  const dist = join(dir, 'dist');
  if (existsSync(join(dist, 'index.js')) && existsSync(join(dist, 'server.js'))) return { dist };
  let files;
  try {
    files = execFileSync('git', ['ls-tree', '-r', '--name-only', BEFORE_COMMIT, 'src'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (error) {
    return { missing: `commit ${BEFORE_COMMIT} cannot be read with git here (${error.message.split('\n')[0]})` };
  }
  rmSync(dir, { recursive: true, force: true });
  for (const file of files) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, execFileSync('git', ['show', `${BEFORE_COMMIT}:${file}`], { cwd: root, maxBuffer: 16 * 1024 * 1024 }));
  }
  await buildPackage({ srcDir: join(dir, 'src'), outDir: dist });
  return { dist };
}
