/**
 * Reads an HTTP `Retry-After` header (seconds, or an HTTP date) as ms from `now`.
 * Undefined when absent or unreadable, so the caller's own backoff applies.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
