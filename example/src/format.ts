/** "12.3 s", "4 min 05 s": short enough for a phone. */
export function formatDuration(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'never';
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function formatClock(epochMs: number | undefined): string {
  if (epochMs === undefined || !Number.isFinite(epochMs)) return '—';
  return new Date(epochMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** The start and end of a token, enough to tell two apart at a glance. */
export function shortToken(token: string): string {
  return token.length <= 24 ? token : `${token.slice(0, 10)}…${token.slice(-10)}`;
}
