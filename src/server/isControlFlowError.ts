const REACT_POSTPONE = Symbol.for('react.postpone');
const MAX_CAUSE_DEPTH = 5;

/**
 * True for what a framework throws to steer the request rather than to report a failure:
 * anything carrying a string `digest` (Next.js's `redirect()`, `notFound()`, `forbidden()`,
 * `unauthorized()`, dynamic-usage and prerender-interruption errors), also when wrapped as
 * another error's `cause` (as Next's `unstable_rethrow` looks for them), and React's postpone.
 * The handler rethrows these untouched, so the framework does what it meant to.
 */
export function isControlFlowError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (typeof (error as { digest?: unknown }).digest === 'string') return true;
  if ((error as { $$typeof?: unknown }).$$typeof === REACT_POSTPONE) return true;
  return depth < MAX_CAUSE_DEPTH && error instanceof Error && isControlFlowError(error.cause, depth + 1);
}
