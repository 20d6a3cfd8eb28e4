// What sharing one token between tabs (issue 13) costs the client entry, min+gz: the entry built
// from src twice, as shipped and without the tabs. "Without" takes out createTabSync and tabLink,
// the schedule's lock branches and the shell's glue for siblings (the stale-failure rule, the
// publishing, the lock input and actions), by the edits below. When an edit no longer finds its
// text, the measure fails naming it: update the edit with the code, never drop it.
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { build } from 'vite';

const root = join(import.meta.dirname, '..', '..');

// The schedule as it would read with no tabs to consider: the same rules, no lock.
const NEXT_STEP_ALONE = `export function nextStep(input: ScheduleInput): ScheduleStep {
  const { now, consumers, inFlight, held } = input;
  const expiryWake = consumers && held !== undefined && held.expiresAt > now ? held.expiresAt : NEVER;
  if (inFlight) return { action: 'none', wakeAt: expiryWake };
  const due = consumers ? dueAt(input) : NEVER;
  return due > now ? { action: 'none', wakeAt: Math.min(due, expiryWake) } : { action: 'fetch', wakeAt: expiryWake };
}
`;

const WITHOUT_TABS = {
  'src/createTokenScheduler.ts': [
    ['crossTab && hasWindow', 'false'],
    [/\n {2}let fetchStartedAt = .*/, ''],
    [/\n {4}if \(findQuery\(\)\?\.state\.fetchStatus !== 'fetching'\) fetchStartedAt = Date\.now\(\);/, ''],
    [' && !(state.dataUpdatedAt > fetchStartedAt)', ''],
    [/\n {6}tabs: tabs\?\.input\(\),/, ''],
    [/\n {4}else if \(step\.action !== 'none'\) tabs\?\.act\(step\.action\);/, ''],
    [/\n {4}let publish = false;/, ''],
    [/\n *publish = true;/g, ''],
    [/\n {4}if \(publish\) tabs\?\.publish\(\);/, ''],
    [/\n {8}tabs\?\.close\(\);\n {8}tabs = undefined;/, ''],
  ],
  'src/core/tokenSchedule.ts': [[/export function nextStep\(input: ScheduleInput\): ScheduleStep \{\n[\s\S]*?\n\}\n/, NEXT_STEP_ALONE]],
};

function withoutTabs() {
  return {
    name: 'without-tabs',
    // Before TypeScript is stripped: the edits match the source as written.
    enforce: 'pre',
    transform(code, id) {
      const file = Object.keys(WITHOUT_TABS).find((path) => id.endsWith(path));
      if (!file) return null;
      let edited = code;
      for (const [from, to] of WITHOUT_TABS[file]) {
        const before = edited;
        edited = edited.replace(from, to);
        if (edited === before) throw new Error(`crossTabCost: ${file} no longer contains ${from}`);
      }
      return edited;
    },
  };
}

/** The client entry, bundled with jwt-decode, peers left out, minified; gzipped as size-limit does. */
async function clientSize(plugins) {
  const result = await build({
    configFile: false,
    root,
    logLevel: 'silent',
    plugins,
    build: {
      write: false,
      minify: true,
      // Not library mode: there vite leaves the whitespace of an ES build unminified.
      rollupOptions: {
        input: join(root, 'src/index.ts'),
        preserveEntrySignatures: 'strict',
        external: [/^react($|\/)/, /^react-dom($|\/)/, /^@tanstack\/react-query($|\/)/],
      },
    },
  });
  const [output] = [result].flat();
  const code = output.output.map((chunk) => chunk.code ?? '').join('');
  return gzipSync(code, { level: 9 }).length;
}

/** Bytes min+gz of the client entry with and without sharing between tabs. */
export async function measureCrossTabCost() {
  const shipped = await clientSize([]);
  const alone = await clientSize([withoutTabs()]);
  return { shipped, alone, cost: shipped - alone };
}
