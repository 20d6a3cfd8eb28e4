/** What Next.js sets `NEXT_PHASE` to in the processes of `next build`. */
const NEXT_BUILD_PHASE = 'phase-production-build';

/**
 * What a handler adds when a CAS setting is missing: often it is set only where the app runs, and
 * a build step that runs the module (`next build` does, to collect page data and to prerender)
 * created the handler too early. Under `next build` the fix is named precisely; elsewhere it is
 * said as a condition, since the usual cause there is a variable that is not set at all.
 */
export function missingSettingHint(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.NEXT_PHASE === NEXT_BUILD_PHASE) {
    return " `next build` runs this module without the run-time variables: create the handler on first use, in GET after `await connection()` (the lazy route in react-cas-token's docs/frameworks.md).";
  }
  return ' Set only at run time? Create the handler on first use, in the request handler.';
}
