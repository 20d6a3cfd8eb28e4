/** The longest delay `setTimeout` takes; a longer one overflows and fires at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `callback` once the clock reaches `at` (epoch ms), however far away that is: a delay
 * past setTimeout's limit is waited out in hops, and each hop re-reads the clock, so a clock
 * that jumps is followed. Returns a function that cancels it.
 */
export function setLongTimeout(callback: () => void, at: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hop = () => {
    const wait = at - Date.now();
    if (wait <= 0) {
      timer = undefined;
      callback();
      return;
    }
    timer = setTimeout(hop, Math.min(wait, MAX_TIMEOUT_MS));
  };
  timer = setTimeout(hop, Math.min(Math.max(0, at - Date.now()), MAX_TIMEOUT_MS));
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
